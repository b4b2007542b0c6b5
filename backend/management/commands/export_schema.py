"""Write schema/schema.graphql (the mobile contract) from the live schema."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from schema.schema import schema

SDL_PATH = Path(settings.BASE_DIR) / "schema" / "schema.graphql"


def render_sdl() -> str:
    """SDL in English whatever the active language, so the file is stable."""


    with translation.override("en"):
        return str(schema).strip() + "\n"


class Command(BaseCommand):
    help = "Export the GraphQL schema as SDL to schema/schema.graphql."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 if the file is stale.")

    def handle(self, check, **options):
        sdl = render_sdl()
        if check:
            if not SDL_PATH.exists() or SDL_PATH.read_text() != sdl:
                self.stderr.write("schema/schema.graphql is stale: run `make schema`.")
                raise SystemExit(1)
            self.stdout.write("schema/schema.graphql is up to date.")
            return
        SDL_PATH.write_text(sdl)
        self.stdout.write(f"Wrote {SDL_PATH}")
