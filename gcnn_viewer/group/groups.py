"""The wallpaper groups p4 and p4m, restricted to their point groups C4 and D4.

Translations are handled by convolution itself, so a group element here is a rotation
(p4) or a rotation with an optional mirror (p4m), indexed by an integer:

- p4:  g = r,          r ∈ {0, 1, 2, 3}, the image transform ``rot90(x, r)``;
- p4m: g = 4·m + r,    m ∈ {0, 1}, the image transform ``rot90(x, r)`` then, when m = 1,
  a flip of the rows (dim −2).

A group feature map ``f`` of shape ``[..., G, H, W]`` is a function on (group element,
pixel). Element ``g`` acts on it by ``(g·f)[h] = T_g(f[g⁻¹·h])``: transform each plane
spatially and permute the orientation axis. For p4 this is
``roll(rot90(f, r), shifts=r, dims=-3)`` (docs/ARCHITECTURE.md, “Tensor and group conventions”).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
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
class Group:
    """A finite group of pixel-grid symmetries acting on images and group feature maps."""

    name: str
    order: int
    _compose: object = field(repr=False, compare=False)

    identity: int = 0

    @property
    def elements(self) -> range:
        return range(self.order)

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

        return torch.tensor(
            [[self._compose(g, h) for h in self.elements] for g in self.elements],  # type: ignore[operator]
            dtype=torch.long,
        )

    @cached_property
    def orientation_permutations(self) -> torch.Tensor:
        """``perm[g, h] = index(g⁻¹·h)``, int64 ``[G, G]``: the orientation axis reindexing of g."""
        import torch

        return torch.tensor(
            [[self.compose(self.inverse(g), h) for h in self.elements] for g in self.elements],
            dtype=torch.long,
        )

    def rotation(self, g: int) -> int:
        """Number of quarter turns in g (counter-clockwise as ``torch.rot90`` displays them)."""
        return self._check(g) % 4

    def mirrored(self, g: int) -> bool:
        return self._check(g) >= 4

    def label(self, g: int) -> str:
        """Display label: ``0°``, ``90°``, …; ``m0°``, ``m90°``, … for mirrored elements."""
        self._check(g)
        return ("m" if self.mirrored(g) else "") + f"{90 * self.rotation(g)}°"

    def act_on_image(self, g: int, x: torch.Tensor) -> torch.Tensor:
        """Transform the last two (spatial) dims of ``x`` ``[..., H, W]`` by g."""
        import torch

        self._check(g)
        y = torch.rot90(x, self.rotation(g), dims=(-2, -1))
        return torch.flip(y, dims=(-2,)) if self.mirrored(g) else y

    def act_on_group_map(self, g: int, f: torch.Tensor) -> torch.Tensor:
        """Act on a group feature map ``[..., G, H, W]``: ``(g·f)[h] = T_g(f[g⁻¹·h])``."""
        self._check(g)
        if f.dim() < 3 or f.shape[-3] != self.order:
            raise ConfigError(
                f"{self.name} maps need shape [..., {self.order}, H, W], got {tuple(f.shape)}"
            )
        perm = self.orientation_permutations[g].to(f.device)
        return self.act_on_image(g, f.index_select(-3, perm))

    def _check(self, g: int) -> int:
        """``g`` as an element index: ConfigError (a ValueError) for 1.5, -1 or 9 in p4."""
        g = check_int(g, f"a {self.name} element")
        if not 0 <= g < self.order:
            raise ConfigError(f"{self.name} has elements 0..{self.order - 1}, got {g}")
        return g


P4 = Group("p4", 4, _p4_compose)
P4M = Group("p4m", 8, _p4m_compose)
GROUPS = {"p4": P4, "p4m": P4M}
