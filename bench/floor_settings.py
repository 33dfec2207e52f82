"""Settings of the minimal Channels app (baseline b): the project's channel layer
configuration and nothing else."""

import os

from hub.config import channel_layer_settings

SECRET_KEY = os.environ.get("SECRET_KEY", "bench-floor-not-secret")
INSTALLED_APPS = ["channels"]
CHANNEL_LAYERS = channel_layer_settings(os.environ.get("REDIS_URL", "").strip())
USE_TZ = True
