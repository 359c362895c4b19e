"""Templates that multiply text through YAML aliases (review H6): the loader counts the bytes of
text a document expands to, not only its values, so they are refused before anything is
evaluated or stored; templates reusing a few pieces still load."""

from __future__ import annotations

import pytest

from kubeheat.template import Limits, Template
from kubeheat.template.errors import TemplateLimitError

BYTES_MESSAGE = ("Template expands to more than 8388608 bytes of text (YAML aliases are "
                 "followed; limit max_expanded_bytes); refusing to process it")


def alias_yaml() -> str:
    """The review's alias.yaml: a 100 KB string referenced 1000 times by one output."""
    s = "A" * 100_000
    l1 = "[" + ", ".join(["*s"] * 100) + "]"
    l2 = "[&l1 " + l1 + ", " + ", ".join(["*l1"] * 9) + "]"
    return (f"heat_template_version: 2016-10-14\ndescription: &s {s}\nresources: {{}}\n"
            f"outputs:\n  o:\n    value: {l2}\n")


def cum_yaml() -> str:
    """The review's cum.yaml generator."""
    s = "A" * 400_000
    items = ", ".join(["*s"] * 40)
    outs = "\n".join(["      - *j"] * 60)
    return (f"heat_template_version: 2016-10-14\ndescription: &s {s}\nresources: {{}}\n"
            f"outputs:\n  o:\n    value:\n      - &j {{list_join: ['', [*s, {items}]]}}\n"
            f"{outs}\n")


@pytest.mark.parametrize("source", [alias_yaml, cum_yaml], ids=["alias.yaml", "cum.yaml"])
def test_alias_multiplied_text_is_refused_at_load(source: object) -> None:
    assert callable(source)
    with pytest.raises(TemplateLimitError) as exc:
        Template.load(source())
    assert str(exc.value) == BYTES_MESSAGE


def test_multibyte_text_counts_in_utf8_bytes() -> None:
    s = "é" * 50_000  # 100 000 bytes, 50 000 characters
    text = (f"heat_template_version: 2016-10-14\ndescription: &s {s}\n"
            f"outputs:\n  o:\n    value: [{', '.join(['*s'] * 84)}]\n")
    with pytest.raises(TemplateLimitError) as exc:
        Template.load(text)
    assert str(exc.value) == BYTES_MESSAGE


def test_a_template_reusing_pieces_still_loads() -> None:
    script = "#!/bin/sh\n" + "echo hello world\n" * 2000  # 34 KB
    servers = "".join(
        f"  s{i}:\n    type: OS::Heat::None\n    properties: {{user_data: *script}}\n"
        for i in range(1, 100))
    text = ("heat_template_version: 2016-10-14\nresources:\n"
            "  s0:\n    type: OS::Heat::None\n    properties:\n      user_data: &script |\n"
            + "".join("        " + line + "\n" for line in script.splitlines())
            + servers)
    tmpl = Template.load(text)
    assert len(tmpl.resource_snippets) == 100


def test_the_byte_limit_is_configurable() -> None:
    text = ("heat_template_version: 2016-10-14\ndescription: &s " + "x" * 1000
            + "\noutputs:\n  o: {value: [*s, *s, *s]}\n")
    Template.load(text)
    with pytest.raises(TemplateLimitError) as exc:
        Template.load(text, limits=Limits(max_expanded_bytes=3000))
    assert "more than 3000 bytes of text" in str(exc.value)
