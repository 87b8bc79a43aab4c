"""Point groups of the plane acting on images and group feature maps: cyclic C_N and dihedral D_N.

Translations are handled by convolution itself, so a group element here is a rotation, with an
optional mirror for the dihedral groups, indexed by an integer ``g = N·m + r`` with
``m ∈ {0, 1}`` the mirror bit and ``r ∈ {0, …, N−1}``: the image transform is a turn by
``r · 360°/N`` counter-clockwise as displayed, then, when m = 1, a flip of the rows (dim −2).

- p4 (C4, ``P4``): g = r, the transform ``rot90(x, r)``;
- p4m (D4, ``P4M``): g = 4·m + r, ``rot90(x, r)`` then the row flip when m = 1;
- C_N and D_N for any N (:func:`cyclic`, :func:`dihedral`; C8, C16, D8 as escnn builds them):
  elements that are quarter turns (``r · 360°/N`` a multiple of 90°) act exactly (``rot90``);
  the others turn the planes by bilinear interpolation about their centre (zeros outside), so
  only their quarter-turn elements form an exact action on the pixel grid.

A group feature map ``f`` of shape ``[..., G, H, W]`` is a function on (group element,
pixel). Element ``g`` acts on it by ``(g·f)[h] = T_g(f[g⁻¹·h])``: transform each plane
spatially and permute the orientation axis. For p4 this is
``roll(rot90(f, r), shifts=r, dims=-3)``; for C8 the element 45° turns the planes by 45° and
rolls the axis by one (docs/ARCHITECTURE.md, “Tensor and group conventions”).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING

from gcnn_viewer.errors import ConfigError, check_int

if TYPE_CHECKING:  # torch is imported where it is used: the app shows its window first
    import torch


def _p4_compose(g: int, h: int) -> int:
    return (g + h) % 4


def _p4m_compose(g: int, h: int) -> int:
    # T_g T_h = F^m1 R^r1 F^m2 R^r2 and R F = F R⁻¹, so R^r1 F^m2 = F^m2 R^((−1)^m2 · r1).
    m1, r1 = divmod(g, 4)
    m2, r2 = divmod(h, 4)
    r = ((-1) ** m2 * r1 + r2) % 4
    return 4 * ((m1 + m2) % 2) + r


@dataclass(frozen=True)
class _CyclicCompose:
    n: int

    def __call__(self, g: int, h: int) -> int:
        return (g + h) % self.n


@dataclass(frozen=True)
class _DihedralCompose:
    n: int

    def __call__(self, g: int, h: int) -> int:  # as _p4m_compose, with N rotations
        m1, r1 = divmod(g, self.n)
        m2, r2 = divmod(h, self.n)
        r = ((-1) ** m2 * r1 + r2) % self.n
        return self.n * ((m1 + m2) % 2) + r


@dataclass(frozen=True)
class Group:
    """A finite group of plane symmetries acting on images and group feature maps.

    ``rotations`` (N) is the number of rotation elements, each a turn by ``360°/N`` more; the
    group is dihedral (N rotations and N mirrored elements) when ``order == 2·N``."""

    name: str
    order: int
    _compose: object = field(repr=False, compare=False)

    identity: int = 0
    rotations: int = 4

    @property
    def elements(self) -> range:
        return range(self.order)

    @property
    def dihedral(self) -> bool:
        return self.order == 2 * self.rotations

    @property
    def interpolated(self) -> bool:
        """True when some element is not a quarter turn (C8, C16, D8, …): its action on images
        is an interpolated rotation, exact only up to resampling."""
        return any(not self.is_quarter_turn(g) for g in self.elements)

    def compose(self, g: int, h: int) -> int:
        """Index of g·h, where (g·h) acts as "first h, then g"."""
        self._check(g)
        self._check(h)
        return self._compose(g, h)  # type: ignore[operator]

    def inverse(self, g: int) -> int:
        return self._inverses[self._check(g)]

    @cached_property
    def _inverses(self) -> tuple[int, ...]:
        return tuple(
            next(h for h in self.elements if self._compose(g, h) == self.identity)  # type: ignore[operator]
            for g in self.elements
        )

    @cached_property
    def cayley_table(self) -> torch.Tensor:
        """``table[g, h] = index(g·h)``, int64 ``[G, G]``."""
        import torch

        # cached for good: made outside inference mode, whatever the first caller runs in,
        # or autograd could never use it afterwards ("Inference tensors cannot be saved")
        with torch.inference_mode(False):
            return torch.tensor(
                [[self._compose(g, h) for h in self.elements] for g in self.elements],  # type: ignore[operator]
                dtype=torch.long,
            )

    @cached_property
    def orientation_permutations(self) -> torch.Tensor:
        """``perm[g, h] = index(g⁻¹·h)``, int64 ``[G, G]``: the orientation axis reindexing of g."""
        import torch

        with torch.inference_mode(False):  # cached for good: see cayley_table
            return torch.tensor(
                [[self.compose(self.inverse(g), h) for h in self.elements] for g in self.elements],
                dtype=torch.long,
            )

    def steps(self, g: int) -> int:
        """The rotation part r of g, in steps of ``360°/N`` (0 ≤ r < N)."""
        return self._check(g) % self.rotations

    def degrees(self, g: int) -> float:
        """The rotation part of g in degrees, counter-clockwise as displayed: ``r · 360°/N``."""
        return 360.0 * self.steps(g) / self.rotations

    def is_quarter_turn(self, g: int) -> bool:
        """Whether g's rotation is a multiple of 90° (it then acts exactly on the pixel grid)."""
        return (4 * self.steps(g)) % self.rotations == 0

    def rotation(self, g: int) -> int:
        """Number of quarter turns in g (counter-clockwise as ``torch.rot90`` displays them).

        ConfigError for an element that is not a quarter turn (C8's 45°): see :meth:`degrees`."""
        if not self.is_quarter_turn(g):
            raise ConfigError(
                f"{self.name} element {self.label(g)} is not a quarter turn; "
                f"its rotation is {self.degrees(g):g}°"
            )
        return 4 * self.steps(g) // self.rotations

    def mirrored(self, g: int) -> bool:
        return self._check(g) >= self.rotations

    def label(self, g: int) -> str:
        """Display label: ``0°``, ``90°``, …; ``45°``, ``22.5°`` for finer groups; ``m0°``,
        ``m90°``, … for mirrored elements."""
        self._check(g)
        return ("m" if self.mirrored(g) else "") + f"{round(self.degrees(g), 4):g}°"

    def rotation_element(self, steps: int) -> int:
        """The element that turns by ``steps · 360°/N`` (no mirror)."""
        return check_int(steps, "rotation steps") % self.rotations

    def quarter_turn_element(self, turns: int) -> int:
        """The element that turns by ``turns`` quarter turns counter-clockwise (no mirror): for
        p4 and p4m ``turns % 4`` itself, for C8 ``2·turns % 8``. ConfigError where 90° is not
        an element (N not a multiple of 4: C6)."""
        turns = check_int(turns, "quarter turns")
        if (turns * self.rotations) % 4:
            raise ConfigError(
                f"{self.name} has no quarter turn (its steps are 360°/{self.rotations})"
            )
        return (turns % 4) * self.rotations // 4

    def nearest_rotation(self, angle: float) -> int:
        """The rotation element nearest ``angle`` degrees (halves rounded up: C8 at 22.5° is 45°,
        p4 at 45° is 90°). For p4 and p4m this is the nearest quarter turn."""
        step = 360.0 / self.rotations
        return math.floor(float(angle) / step + 0.5) % self.rotations

    def act_on_image(self, g: int, x: torch.Tensor) -> torch.Tensor:
        """Transform the last two (spatial) dims of ``x`` ``[..., H, W]`` by g.

        Quarter turns are ``rot90`` (exact); other rotations turn the planes about their
        centre by bilinear interpolation (:func:`rotate_planes`); a mirror then flips the rows."""
        import torch

        self._check(g)
        if self.is_quarter_turn(g):
            y = torch.rot90(x, self.rotation(g), dims=(-2, -1))
        else:
            y = rotate_planes(x, self.degrees(g))
        return torch.flip(y, dims=(-2,)) if self.mirrored(g) else y

    def permute_orientations(self, g: int, f: torch.Tensor) -> torch.Tensor:
        """The orientation part of g's action on a group map ``[..., G, H, W]``:
        ``out[..., h, :, :] = f[..., g⁻¹·h, :, :]`` (planes not transformed)."""
        self._check(g)
        if f.dim() < 3 or f.shape[-3] != self.order:
            raise ConfigError(
                f"{self.name} maps need shape [..., {self.order}, H, W], got {tuple(f.shape)}"
            )
        return f.index_select(-3, self.orientation_permutations[g].to(f.device))

    def act_on_group_map(self, g: int, f: torch.Tensor) -> torch.Tensor:
        """Act on a group feature map ``[..., G, H, W]``: ``(g·f)[h] = T_g(f[g⁻¹·h])``."""
        return self.act_on_image(g, self.permute_orientations(g, f))

    def _check(self, g: int) -> int:
        """``g`` as an element index: ConfigError (a ValueError) for 1.5, -1 or 9 in p4."""
        g = check_int(g, f"a {self.name} element")
        if not 0 <= g < self.order:
            raise ConfigError(f"{self.name} has elements 0..{self.order - 1}, got {g}")
        return g


def rotate_planes(x: torch.Tensor, degrees: float) -> torch.Tensor:
    """Turn every plane of ``x`` ``[..., H, W]`` counter-clockwise (as displayed) by ``degrees``
    about its centre: the nearest quarter turn exactly (``rot90``), the rest (within ±45°) by
    bilinear interpolation, zeros outside. Non-square planes keep their shape (pixel units are
    used, so the turn is a true rotation); a multiple of 90° is exact."""
    import torch

    quarter = math.floor(float(degrees) / 90.0 + 0.5)
    rest = float(degrees) - 90.0 * quarter
    y = torch.rot90(x, quarter % 4, dims=(-2, -1)) if quarter % 4 else x
    if rest == 0.0 or (y.shape[-1] == 1 and y.shape[-2] == 1):
        return y
    h, w = y.shape[-2], y.shape[-1]
    planes = y.reshape(1, -1, h, w)
    dtype = planes.dtype if planes.is_floating_point() else torch.float32
    theta = math.radians(rest)
    cos, sin = math.cos(theta), math.sin(theta)
    # affine_grid maps output to input coordinates, normalised per axis, y down; in pixel units
    # (x·W/2, y·H/2) this is a rotation, which turns the content counter-clockwise on screen
    matrix = torch.tensor(
        [[[cos, -sin * h / w, 0.0], [sin * w / h, cos, 0.0]]], dtype=dtype, device=y.device
    )
    grid = torch.nn.functional.affine_grid(matrix, list(planes.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(
        planes.to(dtype), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return out.to(y.dtype).reshape(y.shape)


P4 = Group("p4", 4, _p4_compose)
P4M = Group("p4m", 8, _p4m_compose)
GROUPS = {"p4": P4, "p4m": P4M}


@cache
def cyclic(n: int) -> Group:
    """C_N: N rotations by ``360°/N``. C4 is :data:`P4` itself; C8 (45°), C16 (22.5°), …"""
    n = check_int(n, "the number of rotations", low=1)
    if n == 4:
        return P4
    return Group(f"C{n}", n, _CyclicCompose(n), rotations=n)


@cache
def dihedral(n: int) -> Group:
    """D_N: N rotations and N mirrored elements (g = N·m + r). D4 is :data:`P4M` itself."""
    n = check_int(n, "the number of rotations", low=1)
    if n == 4:
        return P4M
    return Group(f"D{n}", 2 * n, _DihedralCompose(n), rotations=n)


def group_named(name: str) -> Group:
    """The group of a name as :attr:`Group.name` writes it: ``p4``, ``p4m``, ``C8``, ``D16``…"""
    text = str(name).strip()
    if text in GROUPS:
        return GROUPS[text]
    kind, digits = text[:1].upper(), text[1:]
    if kind in ("C", "D") and digits.isdigit() and int(digits) >= 1:
        return cyclic(int(digits)) if kind == "C" else dihedral(int(digits))
    raise ConfigError(f"no group named {name!r} (p4, p4m, C8, D8, …)")
