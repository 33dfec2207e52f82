from rest_framework.routers import DefaultRouter

from mail.api import MailboxViewSet

router = DefaultRouter()
router.register("mailboxes", MailboxViewSet, basename="mailbox")
