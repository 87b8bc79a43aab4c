"""Frozen models: read-only modules the app's threads may share (docs/ARCHITECTURE.md,
"Threads and models"). One mechanism for the shipped networks (:class:`GCNNModel`) and a
user's module seen through hooks (:class:`~gcnn_viewer.models.user.UserModel`)."""

from __future__ import annotations

from copy import deepcopy
from typing import TypeVar

from torch import nn

Frozen = TypeVar("Frozen", bound="FreezableModule")


class FrozenModelError(RuntimeError):
    """Code tried to change a frozen model (one the app's threads share): a programming
    error, never a user's. Work on :meth:`FreezableModule.unfrozen_copy` instead."""


class FreezableModule(nn.Module):
    """A module that can be frozen for good (:meth:`freeze`) and copied to be trained
    (:meth:`unfrozen_copy`). Subclasses run :meth:`_check_frozen` at the start of a forward
    pass of a frozen model."""

    def __init__(self) -> None:
        super().__init__()
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self: Frozen) -> Frozen:
        """Make this model read-only for good, and return it: eval mode (no dropout, BN on
        its stored statistics), no gradients to its parameters, and every attempt to change
        its mode or weights through the model (``train()``, ``requires_grad_(True)``,
        ``load_state_dict``, and what a subclass adds) raises :class:`FrozenModelError`.
        A forward pass of a frozen model refuses to run if any of its modules was put in
        training mode behind its back. Threads may then share it: nothing one does can
        change what another computes. There is no ``unfreeze``; train a copy
        (:meth:`unfrozen_copy`)."""
        super().train(False)
        for p in self.parameters():
            p.requires_grad_(False)
        self._frozen = True
        return self

    def unfrozen_copy(self: Frozen) -> Frozen:
        """A deep copy that may be trained: same weights, own tensors, gradients on, eval
        mode (the caller chooses the mode)."""
        copy = deepcopy(self)
        copy._frozen = False
        for p in copy.parameters():
            p.requires_grad_(True)
        return copy

    def _frozen_label(self) -> str:
        """How :meth:`_refuse` names this model."""
        return type(self).__name__

    def _refuse(self, what: str) -> None:
        raise FrozenModelError(
            f"{self._frozen_label()} is frozen (shared by the app's threads): {what} would "
            "change it for every one of them; work on model.unfrozen_copy() instead"
        )

    def train(self: Frozen, mode: bool = True) -> Frozen:
        if self._frozen:
            if mode:
                self._refuse("train()")
            return self  # eval() of a frozen model: it is in eval mode already
        return super().train(mode)

    def requires_grad_(self: Frozen, requires_grad: bool = True) -> Frozen:
        if self._frozen and requires_grad:
            self._refuse("requires_grad_(True)")
        return super().requires_grad_(requires_grad)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # noqa: ANN001, ANN201
        if self._frozen:
            self._refuse("load_state_dict()")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _check_frozen(self) -> None:
        """A frozen model runs only in eval mode, whatever changed a submodule's flag."""
        if any(m.training for m in self.modules()):
            self._refuse("a module in training mode")
