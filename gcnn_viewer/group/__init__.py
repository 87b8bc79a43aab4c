"""The maths: point groups (p4, p4m, C_N, D_N), their elements and their action on images and
group feature maps."""

from gcnn_viewer.group.groups import (
    GROUPS,
    P4,
    P4M,
    Group,
    cyclic,
    dihedral,
    group_named,
    rotate_planes,
)

__all__ = ["GROUPS", "P4", "P4M", "Group", "cyclic", "dihedral", "group_named", "rotate_planes"]
