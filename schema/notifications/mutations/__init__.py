import graphene

from .devices import AcknowledgeNotification, RegisterDevice, UnregisterDevice
from .mark_notifications_read import MarkNotificationsRead
from .request_login_code import RequestLoginCode
from .verify_login_code import VerifyLoginCode


class NotificationsMutations(graphene.ObjectType):
    request_login_code = RequestLoginCode.Field()
    verify_login_code = VerifyLoginCode.Field()
    mark_notifications_read = MarkNotificationsRead.Field()
    register_device = RegisterDevice.Field()
    unregister_device = UnregisterDevice.Field()
    acknowledge_notification = AcknowledgeNotification.Field()
