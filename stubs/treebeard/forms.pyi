from typing import Any

from django import forms
from django.db.models import Model

class MoveNodeForm(forms.ModelForm[Any]): ...

def movenodeform_factory(
    model: type[Model], form: type[MoveNodeForm] = ..., exclude: tuple[str, ...] | None = None, **kwargs: Any
) -> type[MoveNodeForm]: ...
