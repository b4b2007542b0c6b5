from typing import ClassVar, Self, TypeVar

from django.db import models

from .models import Node, NodeManager

_N = TypeVar("_N", bound=MP_Node)

class MP_NodeQuerySet(models.QuerySet[_N]): ...
class MP_NodeManager(NodeManager[_N]): ...

class MP_Node(Node):
    steplen: ClassVar[int]
    alphabet: ClassVar[str]
    path = models.CharField(max_length=255, unique=True)
    depth = models.PositiveIntegerField()
    numchild = models.PositiveIntegerField(default=0)
    objects: ClassVar[MP_NodeManager[Self]]
