"""Development: pretend a phone texted us (with the console backend there is no Twilio to do it).

    .venv/bin/python manage.py sms_inbound +8613900000001 "是 K7"
"""

import uuid
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.inbound import process_inbound_sms
from notifications.models import InboundSms
from notifications.outbox import normalize_phone


class Command(BaseCommand):
    help = "Route a simulated inbound SMS through the reply router and print the outcome."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("phone")
        parser.add_argument("body")

    def handle(self, phone: str, body: str, **options: object) -> None:
        normalized = normalize_phone(phone)
        if normalized is None:
            raise CommandError("Not a valid phone number.")
        with transaction.atomic():
            inbound = InboundSms.objects.create(message_sid=f"SIM{uuid.uuid4().hex}", phone=normalized, body=body[:1600])
        self.stdout.write(f"outcome: {process_inbound_sms(inbound.pk)}")
