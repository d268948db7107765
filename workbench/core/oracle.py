"""Black-box access to a model (ARCHITECTURE.md, contract 5).

An :class:`Oracle` stands for a prediction API: it answers the top-k labels of each queried
image with their confidences (optionally rounded), or the labels only; it counts queries per
attacked image and in total, refuses queries beyond a per-image budget, keeps a bounded history
of the queries for stateful defenses, and can wait a while per call to feel like a remote
service. Score-based and label-only attacks receive an oracle, never the model.

The model stays private: no public attribute or method returns it, its modules, parameters or
gradients. Answers are computed without autograd and handed out as fresh CPU tensors.

The framework (not the attack) also needs the truth to judge an attack's outcome:
:meth:`Oracle.judge` answers the full softmax without counting or recording, and refuses while
the oracle is :meth:`~Oracle.sealed` — the attack framework seals it around every step of an
attack, so an attack cannot use it.
"""
from __future__ import annotations

import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch

from workbench.core.errors import WorkbenchError
from workbench.core.model import ModelHandle
from workbench.core.params import as_dict, param


class QueryBudgetExhausted(WorkbenchError):
    """A query would take an image beyond the oracle's per-image budget; nothing was answered."""

    def __init__(self, images: list[int], budget: int) -> None:
        shown = ", ".join(map(str, images[:8])) + (" …" if len(images) > 8 else "")
        super().__init__(f"query budget of {budget} per image exhausted for image(s) {shown}")
        self.images = images
        self.budget = budget


@dataclass(frozen=True)
class OracleParams:
    """What the prediction API reveals and allows; the GUI form and the CLI options come from here."""

    top_k: int = param(0, title="Top-k classes", description="How many of the most likely classes an answer lists; 0 = all classes", low=0, high=100000)
    decimals: int = param(-1, title="Rounding", description="Decimals the confidences are rounded to; -1 = not rounded", low=-1, high=12)
    label_only: bool = param(False, title="Labels only", description="Answer the top-k labels without confidences")
    budget: int = param(0, title="Query budget", description="Queries allowed per attacked image; 0 = unlimited", unit="queries", low=0, high=10**9)
    latency_ms: float = param(0.0, title="Latency", description="Artificial delay of every call, to simulate a remote API", unit="ms", low=0.0, high=60000.0)
    accounts: int = param(1, title="Accounts", description="Accounts the attacker spreads its queries over (more than 1 simulates a Sybil attack on stateful monitoring)", low=1, high=100000, advanced=True)
    switch_every: int = param(100, title="Switch account every", description="Queries sent from one account before switching to the next", unit="queries", low=1, high=10**9, advanced=True)


@dataclass(frozen=True)
class Answer:
    """What the attacker sees for M queried images: ``labels`` (M×k, most likely first) and
    ``scores`` (M×k confidences, rounded as the oracle is set; None when it answers labels only)."""

    labels: torch.Tensor
    scores: torch.Tensor | None

    def __len__(self) -> int:
        return self.labels.shape[0]

    @property
    def top1(self) -> torch.Tensor:
        """The predicted class of each queried image."""
        return self.labels[:, 0]

    def visible(self, num_classes: int) -> torch.Tensor:
        """M×K confidences as the attacker knows them: listed classes carry their score, the
        others 0. Label-only answers give a one-hot vector of the predicted class."""
        dense = torch.zeros(len(self), num_classes)
        if self.scores is None:
            return dense.scatter_(1, self.labels[:, :1], 1.0)
        return dense.scatter_(1, self.labels, self.scores)

    def clone(self) -> Answer:
        return Answer(self.labels.clone(), None if self.scores is None else self.scores.clone())

    def rows(self, index: torch.Tensor | slice) -> Answer:
        """The answers of the rows at ``index``."""
        return Answer(self.labels[index], None if self.scores is None else self.scores[index])

    def replace(self, index: torch.Tensor, rows: Answer) -> Answer:
        """A copy with the rows at ``index`` replaced by ``rows``."""
        labels = self.labels.clone()
        labels[index] = rows.labels
        if self.scores is None or rows.scores is None:
            return Answer(labels, None)
        scores = self.scores.clone()
        scores[index] = rows.scores
        return Answer(labels, scores)


@dataclass(frozen=True)
class QueryRecord:
    """One answered query as a stateful defense sees it: the account that sent it, its sequence
    number in the oracle's life, the attacked image it was for (-1 if not said), the stored
    features of the input, and the label answered."""

    account: str
    number: int
    image: int
    features: torch.Tensor
    label: int


class QueryLog:
    """A bounded history of answered queries, oldest first; several oracles (accounts) may share one."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._records: deque[QueryRecord] = deque(maxlen=maxlen)

    @property
    def maxlen(self) -> int:
        return self._records.maxlen or 0

    def extend(self, records: list[QueryRecord]) -> None:
        self._records.extend(records)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[QueryRecord]:
        return iter(list(self._records))


def quantized(x: torch.Tensor) -> torch.Tensor:
    """The default features recorded per query: the input in 8 bits, as an API would receive it."""
    return (x * 255).round().to(torch.uint8)


class Oracle:
    """Query access to ``model`` as a prediction API with the settings ``params``.

    Per-image accounting: :meth:`begin` starts a batch of ``n`` attacked images; every query row
    names the image it is for (``images``), and a query that would take any image beyond the
    budget raises :class:`QueryBudgetExhausted` without being answered or counted. Attacks plan
    with :meth:`can_afford` so that they never hit that wall.
    """

    def __init__(
        self,
        model: ModelHandle,
        params: OracleParams | None = None,
        *,
        account: str = "attacker",
        log: QueryLog | None = None,
        features: Callable[[torch.Tensor], torch.Tensor] = quantized,
    ) -> None:
        self.__model = model
        self.params = params or OracleParams()
        self.account = account
        self.log = log if log is not None else QueryLog()
        self._features = features
        self.labels: tuple[str, ...] = tuple(model.labels)
        self.input_shape: tuple[int, int, int] = tuple(model.input_shape)
        self.model_id = model.model_id
        self._spent = torch.zeros(0, dtype=torch.long)
        self._total = 0
        self._sealed = False

    # -- what the API documents --------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def k(self) -> int:
        """How many classes an answer lists."""
        top_k = self.params.top_k
        return self.num_classes if top_k == 0 else min(top_k, self.num_classes)

    @property
    def budget(self) -> int:
        """Queries allowed per attacked image; 0 = unlimited."""
        return self.params.budget

    def describe(self) -> dict:
        return {"model_id": self.model_id, "account": self.account, **as_dict(self.params)}

    # -- accounting ------------------------------------------------------------------------------
    def begin(self, n: int) -> None:
        """Start the accounting of a batch of ``n`` attacked images (per-image counts to zero)."""
        self._spent = torch.zeros(n, dtype=torch.long)

    @property
    def queries(self) -> torch.Tensor:
        """Queries spent on each image of the current batch."""
        return self._spent.clone()

    @property
    def total_queries(self) -> int:
        """Queries answered in the oracle's life, over all batches."""
        return self._total

    def can_afford(self, cost: int | torch.Tensor, images: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Whether each image at ``images`` may still spend ``cost`` queries."""
        if self.budget == 0:
            return torch.ones_like(self._spent[images], dtype=torch.bool)
        return self._spent[images] + cost <= self.budget

    # -- queries ---------------------------------------------------------------------------------
    def query(self, x: torch.Tensor, images: torch.Tensor | None = None) -> Answer:
        """Answer a batch of M queries (M×C×H×W in [0, 1]). ``images`` names the attacked image
        of each row (indices into the batch of :meth:`begin`); by default row i is image i."""
        x = self._checked(x)
        images = self._owners(x.shape[0], images)
        spent = torch.bincount(images, minlength=self._spent.numel())
        over = self._spent + spent > self.budget
        if self.budget and over.any():
            raise QueryBudgetExhausted(over.nonzero().squeeze(1).tolist(), self.budget)
        if self.params.latency_ms:
            time.sleep(self.params.latency_ms / 1000.0)
        probs = self.__model.predict(x)
        answer = self._answer(probs)
        self._spent += spent
        self._record(x, images, answer.top1)
        self._total += x.shape[0]
        return answer

    def _checked(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise WorkbenchError(f"the oracle takes M×{'×'.join(map(str, self.input_shape))} images, got {shape}")
        x = x.detach().float().cpu()
        if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise WorkbenchError("the oracle takes images with finite values in [0, 1]")
        return x

    def _owners(self, m: int, images: torch.Tensor | None) -> torch.Tensor:
        if self._spent.numel() == 0:
            raise WorkbenchError("no batch of attacked images yet: call begin(n) before querying")
        if images is None:
            if m != self._spent.numel():
                raise WorkbenchError(
                    f"{m} queries for a batch of {self._spent.numel()} images: say which image each is for"
                )
            return torch.arange(m)
        images = torch.as_tensor(images, dtype=torch.long).reshape(-1).cpu()
        if images.numel() != m or (m and (images.min() < 0 or images.max() >= self._spent.numel())):
            raise WorkbenchError(f"query rows must name images in 0..{self._spent.numel() - 1}, one per row")
        return images

    def _answer(self, probs: torch.Tensor) -> Answer:
        scores, labels = probs.topk(self.k, dim=1)
        if self.params.label_only:
            return Answer(labels.clone(), None)
        if self.params.decimals >= 0:
            scale = 10.0 ** self.params.decimals
            scores = torch.round(scores * scale) / scale
        return Answer(labels.clone(), scores.clone())

    def _record(self, x: torch.Tensor, images: torch.Tensor, labels: torch.Tensor) -> None:
        keep = min(x.shape[0], self.log.maxlen)
        first = x.shape[0] - keep
        features = self._features(x[first:])
        self.log.extend([
            QueryRecord(self.account_of(self._total + first + i), self._total + first + i,
                        int(images[first + i]), features[i].clone(), int(labels[first + i]))
            for i in range(keep)
        ])

    def account_of(self, number: int) -> str:
        """The account that sends query ``number``: the oracle's account, or with several
        accounts, the one whose turn it is (switching every ``switch_every`` queries)."""
        if self.params.accounts == 1:
            return self.account
        turn = number // self.params.switch_every % self.params.accounts
        return f"{self.account}-{turn + 1}"

    # -- the framework's referee -----------------------------------------------------------------
    @contextmanager
    def sealed(self) -> Iterator[None]:
        """While in this context, :meth:`judge` refuses: the attack framework runs attacks inside it."""
        before, self._sealed = self._sealed, True
        try:
            yield
        finally:
            self._sealed = before

    def judge(self, x: torch.Tensor) -> torch.Tensor:
        """The model's full softmax (N×K, CPU) for judging an outcome: not counted, not recorded,
        refused while sealed. For the framework only, never for the attack."""
        if self._sealed:
            raise WorkbenchError("an attack may not use the oracle's referee; it must query")
        return self.__model.predict(self._checked(x))
