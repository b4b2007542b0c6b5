import graphene

from .mark_notifications_read import MarkNotificationsRead
from .request_login_code import RequestLoginCode
from .verify_login_code import VerifyLoginCode


class NotificationsMutations(graphene.ObjectType):
    request_login_code = RequestLoginCode.Field()
    verify_login_code = VerifyLoginCode.Field()
    mark_notifications_read = MarkNotificationsRead.Field()
