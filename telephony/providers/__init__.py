"""Provider adapters: one module per provider behind a small interface. Every
failure to reach a provider is a ProviderError that says whether retrying can help."""

from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
