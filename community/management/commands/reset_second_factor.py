from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from community.models import User
from community.otp import reset_second_factor


class Command(BaseCommand):
    help = ("Forget a staff member's authenticator app and recovery codes (a lost phone): their next "
            "password login enrols a new app.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")

    def handle(self, username: str, **options: object) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        reset_second_factor(user)
        self.stdout.write(f"Second factor of {username} reset: they enrol again at their next login.")
