"""``MonitorView``: stateful query monitoring watching a black-box attack (Chen, Carlini and
Wagner, "Stateful Detection of Black-Box Adversarial Attacks", 2019).

Left, the settings: the detector (k neighbours, buffer, target false-positive rate — a form
generated from :class:`~workbench.defenses.monitor.MonitorParams`) and how many benign images
calibrate its threshold; the black-box attack; the accounts the attacker spreads its queries
over (the Sybil attack: several accounts, switching every so many queries); how many benign
test images the "benign stream" sends.

Right, live: an alarm light that turns red when an account is flagged ("flagged at query N"),
the queries sent, and each account's mean k-NN distance per query as a curve under the
threshold δ — a query-based attack's near-duplicate queries dive below it, a benign stream
stays above (its false-positive rate is shown when it ends).

The view runs nothing: ``attackRequested``, ``benignRequested`` and ``stopRequested`` ask its
lab, which feeds :meth:`show_snapshot` with the detector's state as the queries arrive, and
keeps the settings (:meth:`~MonitorView.save_state`).

Run alone for development: ``python -m workbench.gui.widgets.monitor_view``.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.defenses.monitor import MonitorParams
from workbench.gui import theme
from workbench.gui.forms import ParamForm
from workbench.gui.widgets.attack_chooser import AttackChooser, query_based
from workbench.gui.widgets.page_parts import (
    group,
    restore_form,
    restore_spin,
    settings_panel,
    styled_plot,
    tint,
)

LIGHTS = {"idle": "#9e9e9e", "quiet": "#2e7d32", "alarm": "#d32f2f"}
REDRAW_INTERVAL_MS = 100
LEGEND_ACCOUNTS = 6  # accounts named in the legend (more: the curves speak for themselves)
LEGEND_OFFSET = (-10, 10)
DEFAULT_CALIBRATION = 1000
DEFAULT_BENIGN = 500


class MonitorView(QWidget):
    """A stateful detector watching an oracle (see the module docstring)."""

    attackRequested = Signal()
    benignRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._first_alarm: tuple[str, int] | None = None
        self._queries = 0
        self._threshold: float | None = None
        self._kind = ""

        self.form = ParamForm(MonitorParams)
        self.form.setObjectName("monitorForm")
        self.calibration = QSpinBox()
        self.calibration.setObjectName("calibrationImages")
        self.calibration.setRange(2, 60_000)
        self.calibration.setValue(DEFAULT_CALIBRATION)
        self.calibration.setToolTip("Benign images (Fashion-MNIST training set) whose k-NN distances set the threshold")
        detector_box = QWidget()
        detector_layout = QVBoxLayout(detector_box)
        detector_layout.setContentsMargins(0, 0, 0, 0)
        detector_layout.addWidget(self.form)
        calibration_form = QFormLayout()
        calibration_form.setContentsMargins(0, 0, 0, 0)
        calibration_form.addRow("Calibration images:", self.calibration)
        detector_layout.addLayout(calibration_form)
        self.attack = AttackChooser(query_based, initial="square", values={"square": {"eps": 0.05, "max_queries": 1000}})
        self.attack.setObjectName("monitorAttack")
        self.accounts = QSpinBox()
        self.accounts.setObjectName("sybilAccounts")
        self.accounts.setRange(1, 10_000)
        self.accounts.setValue(1)
        self.accounts.setToolTip("Accounts the attacker spreads its queries over: more than one is a Sybil attack")
        self.switch_every = QSpinBox()
        self.switch_every.setObjectName("switchEvery")
        self.switch_every.setRange(1, 10**6)
        self.switch_every.setValue(10)
        self.switch_every.setSuffix(" queries")
        self.switch_every.setToolTip("Queries sent from one account before the attacker switches to the next")
        sybil_form = QFormLayout()
        sybil_form.addRow("Accounts:", self.accounts)
        sybil_form.addRow("Switch every:", self.switch_every)
        self.accounts.valueChanged.connect(lambda n: self.switch_every.setEnabled(n > 1))
        self.switch_every.setEnabled(False)
        self.benign = QSpinBox()
        self.benign.setObjectName("benignImages")
        self.benign.setRange(1, 10_000)
        self.benign.setValue(DEFAULT_BENIGN)
        self.benign.setToolTip("Test images a benign user sends, one query each")
        self.attack_button = QPushButton("Run attack")
        self.attack_button.setObjectName("runMonitoredAttack")
        self.attack_button.setDefault(True)
        self.benign_button = QPushButton("Benign stream")
        self.benign_button.setObjectName("runBenignStream")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopMonitor")
        self.stop_button.setEnabled(False)
        benign_form = QFormLayout()
        benign_form.addRow("Benign queries:", self.benign)
        buttons = QWidget()
        buttons_layout = QHBoxLayout(buttons)
        buttons_layout.setContentsMargins(0, 4, 0, 0)
        for button in (self.attack_button, self.benign_button, self.stop_button):
            buttons_layout.addWidget(button)
        settings = settings_panel(
            group("Stateful detector", detector_box),
            group("Black-box attack on the current image", self.attack),
            group("Accounts (Sybil)", layout=sybil_form),
            group("Benign stream", layout=benign_form),
            buttons,
        )

        self.light = QLabel()
        self.light.setObjectName("alarmLight")
        self.light.setFixedSize(44, 44)
        self.verdict = QLabel()
        self.verdict.setObjectName("alarmText")
        self.verdict.setWordWrap(True)
        self.counters = QLabel()
        self.counters.setObjectName("monitorCounters")
        self.counters.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.light, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.addWidget(self.verdict)
        texts.addWidget(self.counters)
        head.addLayout(texts, 1)
        self.plot_widget = styled_plot("Mean distance to the k nearest earlier queries", "query", "k-NN distance")
        self.plot = self.plot_widget.getPlotItem()
        self.legend = self.plot.addLegend(offset=LEGEND_OFFSET, labelTextColor="#222222", brush=pg.mkBrush(255, 255, 255, 220))
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False, label="threshold δ",
                                              labelOpts={"position": 0.06, "color": theme.COLOR_WRONG, "anchors": [(0, 1), (0, 1)]})
        self.threshold_line.setVisible(False)
        self.plot.addItem(self.threshold_line)
        # Queries from an account with fewer than k earlier ones have no k-NN distance yet: ticks
        # along the bottom, so that a Sybil attack's unjudged queries are seen too.
        self.unjudged = pg.ScatterPlotItem(symbol="|", size=14, pen=pg.mkPen("#757575", width=2), brush=None)
        self.plot.addItem(self.unjudged)
        self._unjudged: list[float] = []
        self._legend_unjudged = False
        results = QVBoxLayout()
        results.addLayout(head)
        results.addWidget(self.plot_widget, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(settings)
        layout.addLayout(results, 1)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self._redraw)
        self.attack_button.clicked.connect(self.attackRequested)
        self.benign_button.clicked.connect(self.benignRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        theme.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._set_light("idle", "Calibrate the detector and run a black-box attack on the current image.")

    # -- settings ---------------------------------------------------------------------------------
    def monitor_params(self) -> dict[str, Any]:
        return self.form.values()

    def oracle_params(self) -> dict[str, Any]:
        """The attacker's accounts as :class:`~workbench.core.oracle.OracleParams` values."""
        return {"accounts": self.accounts.value(), "switch_every": self.switch_every.value()}

    def save_state(self) -> dict[str, Any]:
        """Everything set on the page, for the settings."""
        return {"detector": self.monitor_params(), "calibration": self.calibration.value(), "attack": self.attack.save_state(),
                "accounts": self.accounts.value(), "switch_every": self.switch_every.value(), "benign": self.benign.value()}

    def restore_state(self, state: Any) -> None:
        """Back to a :meth:`save_state` read from the settings (what is missing or bad is left as
        it is)."""
        if not isinstance(state, dict):
            return
        restore_form(self.form, state.get("detector"))
        self.attack.restore_state(state.get("attack"))
        for spin, key in ((self.calibration, "calibration"), (self.accounts, "accounts"),
                          (self.switch_every, "switch_every"), (self.benign, "benign")):
            restore_spin(spin, state.get(key))

    def set_running(self, running: bool) -> None:
        self.attack_button.setEnabled(not running)
        self.benign_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    # -- live -------------------------------------------------------------------------------------
    def start(self, kind: str) -> None:
        """A run began: ``kind`` is "attack" or "benign"."""
        self._kind = kind
        self._series.clear()
        for curve in self._curves.values():
            self.plot.removeItem(curve)
        self._curves.clear()
        self.legend.clear()
        self._legend_unjudged = False
        self._unjudged = []
        self.unjudged.setData([], [])
        self._first_alarm = None
        self._queries = 0
        self._threshold = None
        self.threshold_line.setVisible(False)
        self.counters.setText("")
        self._set_light("idle", "Calibrating the detector on benign images…")

    def show_snapshot(self, snapshot: Any) -> None:
        """The detector's state after some queries: ``threshold``, ``queries`` (watched so
        far), the new queries' ``accounts``, ``numbers`` and ``distances`` (inf before an
        account has k queries), ``alarms``, ``first_alarm`` ((account, number) or None),
        ``accounts_seen`` and, for attacks, ``fooled``."""
        self._threshold = float(snapshot.threshold)
        self._queries = int(snapshot.queries)
        for account, number, distance in zip(snapshot.accounts, snapshot.numbers, snapshot.distances):
            xs, ys = self._series.setdefault(str(account), ([], []))
            xs.append(float(number) + 1)  # queries counted from 1, as in "flagged at query N"
            ys.append(float(distance) if np.isfinite(distance) else np.nan)
            if not np.isfinite(distance):
                self._unjudged.append(float(number) + 1)
        if snapshot.first_alarm is not None and self._first_alarm is None:
            self._first_alarm = (str(snapshot.first_alarm[0]), int(snapshot.first_alarm[1]))
        self._show_state(snapshot)
        if not self._redraw_timer.isActive():
            self._redraw_timer.start(REDRAW_INTERVAL_MS)

    def finish(self, snapshot: Any | None, text: str = "") -> None:
        """The run ended (``snapshot``: the last state, if any); ``text`` adds a closing line."""
        if snapshot is not None:
            self.show_snapshot(snapshot)
        self._redraw_timer.stop()
        self._redraw()
        if text:
            self.counters.setText(self.counters.text() + "<br>" + text)

    def first_alarm(self) -> tuple[str, int] | None:
        return self._first_alarm

    def queries(self) -> int:
        return self._queries

    def threshold(self) -> float | None:
        return self._threshold

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per account: (query numbers, k-NN distances) plotted so far."""
        return {account: (np.array(xs), np.array(ys)) for account, (xs, ys) in self._series.items()}

    def light_state(self) -> str:
        return str(self.light.property("state"))

    # -- internals --------------------------------------------------------------------------------
    def _show_state(self, snapshot: Any) -> None:
        self.threshold_line.setValue(self._threshold)
        self.threshold_line.setVisible(True)
        accounts = int(snapshot.accounts_seen)
        alarms = int(snapshot.alarms)
        rate = alarms / self._queries if self._queries else 0.0
        self.counters.setText(
            f"Queries sent: <b>{self._queries:,}</b> · accounts: {accounts} · alarms: {alarms:,} "
            f"({rate:.1%} of queries) · threshold δ = {self._threshold:.3g}"
        )
        if self._first_alarm is not None:
            account, number = self._first_alarm
            who = f" (account {account})" if self._kind == "benign" or accounts > 1 else ""
            self._set_light("alarm", f"ALARM — flagged at query {number + 1:,}{who}")
        elif self._kind == "benign":
            self._set_light("quiet", f"No alarm after {self._queries:,} benign queries")
        else:
            fooled = " — the attack already fooled the model" if getattr(snapshot, "fooled", False) else ""
            self._set_light("quiet", f"No alarm after {self._queries:,} queries{fooled}")

    def _set_light(self, state: str, text: str) -> None:
        color = LIGHTS[state]
        self.light.setProperty("state", state)
        self.light.setStyleSheet(f"background: {color}; border: 3px solid #555555; border-radius: 22px;")
        self.verdict.setText(text)
        tint(self.verdict, LIGHTS["alarm"] if state == "alarm" else "#222222")

    def _redraw(self) -> None:
        s = theme.style()
        colors = theme.class_colors_rgb(max(len(self._series), 1))
        named = sum(1 for curve in self._curves.values() if curve.property("named"))
        for index, (account, (xs, ys)) in enumerate(self._series.items()):
            curve = self._curves.get(account)
            if curve is None:
                color = tuple(int(c) for c in colors[index % len(colors)])
                curve = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=s.line_width * 0.75), connect="finite")
                self.plot.addItem(curve)
                self._curves[account] = curve
            values = np.asarray(ys)
            curve.setData(np.asarray(xs), values)
            if not curve.property("named") and named < LEGEND_ACCOUNTS and np.isfinite(values).any():
                self.legend.addItem(curve, f"account {account}")
                curve.setProperty("named", True)
                named += 1
        if self._unjudged:
            self.unjudged.setData(self._unjudged, np.zeros(len(self._unjudged)))
            if not self._legend_unjudged:
                self.legend.addItem(self.unjudged, "not judged yet (fewer than k queries)")
                self._legend_unjudged = True
        self.legend.anchor((1, 0), (1, 0), offset=LEGEND_OFFSET)  # keep its right edge in view as it grows
        if self._threshold is not None:
            finite = [max((v for v in ys if np.isfinite(v)), default=0.0) for _xs, ys in self._series.values()]
            top = max([self._threshold, *finite]) * 1.08
            self.plot.setYRange(0.0, top, padding=0.0)

    def _restyle(self) -> None:
        s = theme.style()
        self.verdict.setFont(theme.font(s.title_pt * 1.3, bold=True))
        self.counters.setFont(theme.font())
        self.threshold_line.setPen(pg.mkPen(theme.COLOR_WRONG, width=s.line_width, style=Qt.PenStyle.DashLine))
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setTickFont(theme.font(s.font_pt * 0.9))


def demo() -> MonitorView:
    from types import SimpleNamespace

    view = MonitorView()
    view.start("attack")
    rng = np.random.default_rng(0)
    numbers = np.arange(400)
    distances = np.where(numbers < 50, np.inf, 0.4 + 0.1 * rng.random(400))
    view.finish(SimpleNamespace(threshold=1.6, queries=400, accounts=["mallory"] * 400, numbers=numbers,
                                distances=distances, alarms=350, first_alarm=("mallory", 50), accounts_seen=1,
                                fooled=True))
    return view


def main() -> int:  # pragma: no cover - manual development aid
    app = QApplication.instance() or QApplication(sys.argv)
    view = demo()
    view.setWindowTitle("MonitorView demo")
    view.resize(1200, 700)
    view.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
