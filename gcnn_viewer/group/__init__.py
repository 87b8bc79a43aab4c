"""The maths: p4 and p4m group elements and their action on images and group feature maps."""

from gcnn_viewer.group.groups import GROUPS, P4, P4M, Group

__all__ = ["GROUPS", "P4", "P4M", "Group"]
