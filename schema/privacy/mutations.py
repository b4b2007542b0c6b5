"""The data subject's rights over the API: export my data (a signed link to JSON or XLSX)."""

from __future__ import annotations

import datetime as dt

import graphene
from django.utils import timezone

from privacy.my_data import DataFormat, link_max_age, my_data_link

from ..core.mutations import BaseMutation
from ..core.permissions import current_user
from ..emergency.review_types import public_base
from .rights import RightsMutations
from .sessions import SessionMutations


class ExportMyData(BaseMutation):
    """Everything Linli holds about you (account, resident profile, contacts, consents,
    reports, notifications, texts, volunteer work, safety answers, who read your record), as
    links a browser opens without the token: made for you, valid MY_DATA_LINK_MAX_AGE seconds
    (10 minutes by default); a password change closes them."""

    json_url = graphene.String()
    xlsx_url = graphene.String()
    expires_at = graphene.DateTime()

    @classmethod
    def perform_mutation(cls, root, info):
        user = current_user(info)
        base = public_base(info.context)
        return cls(errors=[], json_url=my_data_link(user, base=base, fmt=DataFormat.JSON),
                   xlsx_url=my_data_link(user, base=base, fmt=DataFormat.XLSX),
                   expires_at=timezone.now() + dt.timedelta(seconds=link_max_age()))


class PrivacyMutations(RightsMutations, SessionMutations, graphene.ObjectType):
    export_my_data = ExportMyData.Field()
