"""Heat's max_resources_per_stack over a whole tree of provider templates, at definition time
(review H7): the review's prov/fan.yaml (10 provider resources per level, 5 levels, 111 110
nested stacks once expanded) is refused while the tree is being defined, long before it is
all built, naming the resource path where the limit was crossed. The root's own resources do
not count in the tree (as Heat's total_resources and the engine's TreeSize)."""

from __future__ import annotations

import pytest

from kubeheat.template import Limits, Template
from kubeheat.template.errors import TemplateLimitError

HOT = "heat_template_version: 2016-10-14\n"


def fan_files(width: int = 10, levels: int = 5) -> tuple[str, dict[str, str]]:
    """fan.yaml and the files it refers to: ``width`` resources of type fan1.yaml, ... and
    fan<levels>.yaml holding one OS::Heat::None."""
    def level(i: int) -> str:
        if i == levels:
            return HOT + "resources:\n  n: {type: OS::Heat::None}\n"
        return HOT + "resources:\n" + "".join(
            f"  a{j}: {{type: fan{i + 1}.yaml}}\n" for j in range(1, width + 1))
    files = {f"fan{i}.yaml": level(i) for i in range(1, levels + 1)}
    return level(0), files


def test_the_reviews_fan_out_is_refused_while_defining() -> None:
    text, files = fan_files()
    with pytest.raises(TemplateLimitError) as exc:
        Template.load(text, files=files).define(strict=False)
    # depth first: fan1 and its first fan2 hold 20; each fan3 below holds 10 + 10 fan4 of 10 +
    # 10 fan5 of 1 (210); after four of them 860, the fifth fan3 (870) and six fan4 subtrees
    # of 20 (990), the seventh fan4 (1000) and its first fan5 take the tree over 1000
    where = ("resources.a1.type.fan1.yaml.resources.a1.type.fan2.yaml.resources.a5.type."
             "fan3.yaml.resources.a7.type.fan4.yaml.resources.a1.type.fan5.yaml")
    assert str(exc.value) == f"{where}: Maximum resources per stack exceeded."
    assert exc.value.code == "RequestLimitExceeded"


def test_a_tree_at_the_limit_is_defined_and_the_root_does_not_count() -> None:
    text = HOT + "resources:\n" + "".join(f"  a{j}: {{type: mid.yaml}}\n" for j in range(10))
    files = {"mid.yaml": HOT + "resources:\n" + "".join(
        f"  b{j}: {{type: leaf.yaml}}\n" for j in range(10)),
        "leaf.yaml": HOT + "resources:\n" + "".join(
            f"  c{j}: {{type: OS::Heat::None}}\n" for j in range(9))}
    # 10 mid x 10 resources + 100 leaves x 9 = 1000, exactly the limit
    defn = Template.load(text, files=files).define(strict=False)
    assert defn.tree.total == 1000
    files["leaf.yaml"] += "  extra: {type: OS::Heat::None}\n"
    with pytest.raises(TemplateLimitError) as exc:
        Template.load(text, files=files).define(strict=False)
    assert str(exc.value).endswith(": Maximum resources per stack exceeded.")


def test_the_limit_is_configurable_and_minus_one_lifts_it() -> None:
    text, files = fan_files(width=3, levels=3)       # 3 x 3 + 9 x 3 + 27 x 1 below the root
    assert Template.load(text, files=files).define(strict=False).tree.total == 63
    with pytest.raises(TemplateLimitError):
        Template.load(text, files=files, limits=Limits(max_resources_per_stack=62)).define()
    unlimited = Limits(max_resources_per_stack=-1)
    assert Template.load(text, files=files, limits=unlimited).define().tree.total == 63
