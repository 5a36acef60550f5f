"""Each fault kind has its own colour and name on the plots against time, from one mapping (svg.FAULT_LOOKS)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chaos.history import Call, Fault, build
from chaos.nemesis.schedule import REBUILD
from chaos.report import ScenarioRecord, svg, write_report
from chaos.report.plots import latency_over_time, throughput
from chaos.report.timeline import timeline
from chaos.report.views import fault_rows

pytestmark = pytest.mark.unit


def history(*faults: Fault) -> list:
    calls = [Call(f"client_{n % 2}", "generate_invoice", {"user_id": n, "period": "p"}, "ok", n * 0.1, n * 0.1 + 0.05,
                  status=200, result={"invoice_id": n}) for n in range(20)]
    return build(calls, faults)


TWO_KINDS = history(Fault(0.2, 0.6, {"fault": "partition", "target": "api_1->redis"}),
                    Fault(1.0, 1.4, {"fault": "pause", "target": "api_2"}))


def shaded(picture: str) -> set[str]:
    """The colours of the translucent fault bands in an SVG (matplotlib leaves out a black fill)."""
    return {fill or "#000000" for fill in re.findall(r'style="(?:fill: (#[0-9a-f]{6}); )?opacity: 0\.18', picture)}


def test_every_fault_kind_the_nemesis_records_has_its_own_colour_and_label() -> None:
    assert set(REBUILD) <= set(svg.FAULT_LOOKS), "a fault kind without a colour: add it to svg.FAULT_LOOKS"
    colours = [look.colour for look in svg.FAULT_LOOKS.values()]
    assert len(set(colours)) == len(colours) and svg.FAULT_FALLBACK not in colours
    assert all(re.fullmatch(r"#[0-9a-f]{6}", colour) for colour in colours)  # as matplotlib writes them
    labels = [look.label for look in svg.FAULT_LOOKS.values()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("draw", [latency_over_time, throughput], ids=["latency", "throughput"])
def test_two_fault_kinds_are_two_colours_and_both_are_named_in_the_key(draw) -> None:
    picture = draw(TWO_KINDS)
    partition, pause = svg.fault_look("partition"), svg.fault_look("pause")
    assert partition.colour != pause.colour
    assert shaded(picture) == {partition.colour, pause.colour}
    assert ">faults<" in picture and ">partition<" in picture and ">pause<" in picture


def test_the_timeline_bars_and_bands_take_their_kinds_colour() -> None:
    picture = timeline(TWO_KINDS, [])
    partition, pause = svg.fault_look("partition").colour, svg.fault_look("pause").colour
    assert shaded(picture) == {partition, pause}
    for colour in (partition, pause):  # the opaque bar in the fault's nemesis row
        assert re.search(rf'style="fill: {colour}"', picture)
    assert "nemesis: partition api_1-&gt;redis" in picture and "nemesis: pause api_2" in picture


def test_an_unknown_kind_is_grey_and_named_by_itself() -> None:
    assert svg.fault_look("meteor") == svg.FaultLook(svg.FAULT_FALLBACK, "meteor")
    assert svg.fault_look(None).label == "fault"
    picture = latency_over_time(history(Fault(0.2, 0.6, {"fault": "meteor", "target": "api_1"}),
                                        Fault(1.0, 1.4, {"fault": "latency", "target": "api_1->redis"})))
    assert shaded(picture) == {svg.FAULT_FALLBACK, svg.fault_look("latency").colour}
    assert ">meteor<" in picture and ">latency<" in picture


def test_a_toxic_is_named_by_its_kind_and_the_fault_table_rows_carry_kind_and_colour() -> None:
    ops = history(Fault(0.2, 0.6, {"fault": "reset_peer", "target": "client->api_1", "stream": "downstream",
                                   "timeout": 0}))
    assert ">reset peer<" in throughput(ops)
    [row] = fault_rows(ops)
    assert (row["kind"], row["colour"], row["label"]) == ("reset peer", svg.fault_look("reset_peer").colour,
                                                         "reset_peer client->api_1")


def test_the_scenario_page_shows_both_kinds_colours_and_names(tmp_path: Path) -> None:
    index = write_report(tmp_path, "run", [ScenarioRecord("s", TWO_KINDS, [], seed=1)])
    html = (index.parent / "s.html").read_text()
    for kind in ("partition", "pause"):
        assert svg.fault_look(kind).colour in html and f">{kind}<" in html


def test_a_kill_is_black_and_told_apart_from_an_unknown_kind() -> None:
    picture = throughput(history(Fault(0.2, 0.6, {"fault": "kill", "target": "worker_1"}),
                                 Fault(1.0, 1.4, {"fault": "meteor", "target": "api_1"})))
    assert shaded(picture) == {"#000000", svg.FAULT_FALLBACK}
    assert ">kill<" in picture and ">meteor<" in picture
