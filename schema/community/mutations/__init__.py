import graphene

from .auth import RefreshToken, RevokeToken, TokenAuth
from .switch_area_mode import SwitchAreaMode


class CommunityMutations(graphene.ObjectType):
    token_auth = TokenAuth.Field()
    refresh_token = RefreshToken.Field()
    revoke_token = RevokeToken.Field()
    switch_area_mode = SwitchAreaMode.Field()
