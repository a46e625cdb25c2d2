"""The eGain XML ⇄ dict codec (api/codecs/xml.py): eGain's documents, hostile documents, output."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emaildesk.api.codecs.xml import DEFAULT_LIST_ELEMENTS, parse_xml, render_xml
from emaildesk.api.egain import xml_names
from emaildesk.domain import errors
from emaildesk.domain.errors import DomainError

# api-notes §1.5 Example 1, as eGain publishes it (namespaces, prefixes, CDATA, single quotes).
EXAMPLE_1 = b"""<activity xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/activity"
          xmlns:ns2="http://bindings.egain.com/ws/model/v12/gen/platform"
          xmlns:ns3="http://bindings.egain.com/ws/model/v12/gen/common"
          xmlns:ns4="http://bindings.egain.com/ws/model/v12/gen/interaction/attachment">
  <department><ns2:name>service</ns2:name></department>
  <type><value>email</value><subtype><ns3:value>general</ns3:value></subtype></type>
  <case id='1060'/>
  <isSecure>true</isSecure>
  <subject>Issue with mobile phone</subject>
  <payload><email>
    <date date='2015-12-26T19:00:00.000Z'/>
    <contents>
      <content><ns3:type>text</ns3:type><ns3:value>This is the issue</ns3:value></content>
      <content><ns3:type>html</ns3:type><ns3:value><![CDATA[<HTML>...</HTML>]]></ns3:value></content>
    </contents>
    <emailAddresses><from>jhenry@customer.com</from><receiver>support@business.com</receiver></emailAddresses>
  </email></payload>
</activity>"""

# The same request in JSON, as api-notes §1.5 gives it.
EXAMPLE_1_JSON: dict[str, Any] = {
    "department": {"name": "service"},
    "type": {"value": "email", "subtype": {"value": "general"}},
    "case": {"id": "1060"},
    "isSecure": "true",
    "subject": "Issue with mobile phone",
    "payload": {
        "email": {
            "date": {"date": "2015-12-26T19:00:00.000Z"},
            "contents": {
                "content": [
                    {"type": "text", "value": "This is the issue"},
                    {"type": "html", "value": "<HTML>...</HTML>"},
                ]
            },
            "emailAddresses": {"from": "jhenry@customer.com", "receiver": "support@business.com"},
        }
    },
}


def _malformed(body: bytes, **options: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        parse_xml(body, **options)
    assert raised.value.spec is errors.MALFORMED_BODY
    assert raised.value.params == {"format": "application/xml"}
    return raised.value


# --- eGain's documents ------------------------------------------------------------------------


def test_example_1_parses_to_the_documented_json() -> None:
    assert parse_xml(EXAMPLE_1) == ("activity", EXAMPLE_1_JSON)


def test_unnamespaced_input_parses_the_same() -> None:
    plain = (
        EXAMPLE_1.replace(b"ns2:", b"")
        .replace(b"ns3:", b"")
        .replace(b"ns4:", b"")
        .split(b">", 1)[1]  # drop the root start tag with its declarations
    )
    assert parse_xml(b"<activity>" + plain) == ("activity", EXAMPLE_1_JSON)


def test_namespaced_attributes_lose_their_prefix() -> None:
    body = b'<a xmlns:x="urn:x"><case x:id="7"/></a>'
    assert parse_xml(body) == ("a", {"case": {"id": "7"}})


def test_a_listed_element_is_a_list_even_when_it_occurs_once() -> None:
    body = b"""<activity>
      <payload><email><contents><content><type>text</type><value>hi</value></content></contents>
      </email></payload>
      <customAttributes><customAttribute><attribName>rating</attribName>
        <attribValues><attribValue><value>5</value></attribValue></attribValues>
      </customAttribute></customAttributes>
    </activity>"""
    _, data = parse_xml(body)
    assert data["payload"]["email"]["contents"] == {"content": [{"type": "text", "value": "hi"}]}
    assert data["customAttributes"] == {
        "customAttribute": [
            {"attribName": "rating", "attribValues": {"attribValue": [{"value": "5"}]}}
        ]
    }


def test_a_parent_qualified_list_entry_applies_only_under_that_parent() -> None:
    # `content` is a list inside <contents>, the base64 text inside <attachment>; `email` is one
    # object in <payload> and a list inside a customer's <contact>.
    body = b"""<activity>
      <attachments><attachment><contentType>text/plain</contentType><content>aGk=</content>
      </attachment></attachments>
      <payload><email><subject>s</subject></email></payload>
      <customer><contacts><contact><email><emailAddress>j@x.com</emailAddress></email>
      </contact></contacts></customer>
    </activity>"""
    _, data = parse_xml(body)
    assert data["attachments"] == {"attachment": [{"contentType": "text/plain", "content": "aGk="}]}
    assert data["payload"] == {"email": {"subject": "s"}}
    assert data["customer"] == {"contacts": {"contact": [{"email": [{"emailAddress": "j@x.com"}]}]}}


def test_repeated_siblings_become_a_list_whatever_their_name() -> None:
    body = b"<a><tag>x</tag><other>o</other><tag>y</tag></a>"
    assert parse_xml(body, list_elements=frozenset()) == ("a", {"tag": ["x", "y"], "other": "o"})


def test_custom_list_elements_replace_the_defaults() -> None:
    body = b"<a><contents><content>x</content></contents><item>i</item></a>"
    assert parse_xml(body, list_elements=frozenset({"item"})) == (
        "a",
        {"contents": {"content": "x"}, "item": ["i"]},
    )
    assert "contents/content" in DEFAULT_LIST_ELEMENTS


def test_text_keeps_cdata_and_inner_whitespace_but_pure_whitespace_is_empty() -> None:
    body = b"<a><v><![CDATA[ <b>bold</b> & more ]]></v><w>  spaced  </w><e>   \n </e><f/></a>"
    assert parse_xml(body) == (
        "a",
        {"v": " <b>bold</b> & more ", "w": "  spaced  ", "e": "", "f": ""},
    )


def test_text_beside_attributes_is_the_value_field() -> None:
    assert parse_xml(b'<a><name lang="en">Service</name></a>') == (
        "a",
        {"name": {"lang": "en", "value": "Service"}},
    )


def test_root_text_is_the_value_field() -> None:
    assert parse_xml(b"<note>hello</note>") == ("note", {"value": "hello"})
    assert parse_xml(b"<login/>") == ("login", {})


def test_mixed_content_is_refused() -> None:
    # Unescaped HTML inside a value: refusing says so, instead of dropping the text.
    _malformed(b"<a><value>some <b>bold</b> text</value></a>")


def test_an_attribute_and_an_element_of_the_same_name_are_refused() -> None:
    _malformed(b'<a><case id="1"><id>2</id></case></a>')


# --- hostile documents ------------------------------------------------------------------------


_AUDIT_SINKS: list[list[tuple[str, tuple[Any, ...]]]] = []
_IO_EVENTS = frozenset({"open", "urllib.Request", "socket.connect", "socket.getaddrinfo"})


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _AUDIT_SINKS and event in _IO_EVENTS:
        for sink in _AUDIT_SINKS:
            sink.append((event, args))


sys.addaudithook(_audit)  # PEP 578 hooks cannot be removed; it records only inside _watched


def _watched(action: Callable[[], object]) -> tuple[Exception | None, list[Any]]:
    """Run `action`, returning what it raised and every file open or network use it made."""
    events: list[tuple[str, tuple[Any, ...]]] = []
    _AUDIT_SINKS.append(events)
    try:
        action()
    except Exception as exc:
        return exc, events
    finally:
        _AUDIT_SINKS.remove(events)
    return None, events


def _refused_without_io(body: bytes) -> DomainError:
    error, io = _watched(lambda: parse_xml(body))
    assert isinstance(error, DomainError)
    assert error.spec is errors.MALFORMED_BODY
    assert io == []
    return error


def test_the_io_watch_sees_a_file_being_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    _, io = _watched(secret.read_text)
    assert [event for event, _ in io] == ["open"]


def test_external_entity_is_refused_and_no_file_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'
        "<a><subject>&e;</subject></a>"
    ).encode()
    error = _refused_without_io(body)
    assert "TOP-SECRET" not in repr(error)


def test_external_entity_to_etc_passwd_is_refused() -> None:
    _refused_without_io(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


def test_external_parameter_entity_is_refused() -> None:
    _refused_without_io(b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><x/>')


def test_external_dtd_is_refused_without_fetching_it() -> None:
    _refused_without_io(b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd"><x/>')
    _refused_without_io(b'<!DOCTYPE x PUBLIC "-//E//DTD E//EN" "file:///etc/passwd"><x/>')


def test_billion_laughs_is_refused_at_once() -> None:
    lols = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    body = f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{lols}]><lolz>&lol9;</lolz>'.encode()
    started = time.perf_counter()
    _malformed(body)
    assert time.perf_counter() - started < 1.0


def test_any_doctype_is_refused_even_without_entities() -> None:
    _malformed(b"<!DOCTYPE a [<!ELEMENT a ANY>]><a/>")


def test_depth_bomb_is_refused_before_it_is_built() -> None:
    depth = 200_000
    body = b"<a>" * depth + b"</a>" * depth
    started = time.perf_counter()
    _malformed(body)
    assert time.perf_counter() - started < 2.0


def test_nesting_up_to_max_depth_is_accepted_and_one_more_is_refused() -> None:
    def nested(levels: int) -> bytes:
        return b"<a>" * levels + b"x" + b"</a>" * levels

    assert parse_xml(nested(64))[0] == "a"
    _malformed(nested(65))
    assert parse_xml(nested(3), max_depth=3) == ("a", {"a": {"a": "x"}})
    _malformed(nested(4), max_depth=3)


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("ISO-8859-1", "Größe café"),
        ("windows-1252", "naïve “quotes” €"),
        ("UTF-16", "Ωmega 日本"),
        ("Shift_JIS", "件名は日本語です"),
        ("EUC-JP", "問い合わせ"),
        ("GB2312", "邮件主题"),
        ("KOI8-R", "Тема письма"),
    ],
)
def test_declared_encodings_are_decoded(encoding: str, text: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><a><subject>{text}</subject></a>'
    assert parse_xml(body.encode(encoding)) == ("a", {"subject": text})


def test_utf8_with_a_byte_order_mark_is_read() -> None:
    assert parse_xml("\ufeff<a><s>é</s></a>".encode()) == ("a", {"s": "é"})


def test_bytes_that_do_not_match_the_declared_encoding_are_malformed() -> None:
    _malformed(b'<?xml version="1.0" encoding="Shift_JIS"?><a>\x81</a>')
    _malformed(b'<?xml version="1.0" encoding="UTF-8"?><a>\xff\xfe</a>')


def test_an_unknown_declared_encoding_is_malformed() -> None:
    _malformed(b'<?xml version="1.0" encoding="x-no-such-charset"?><a/>')
    _malformed(b'<?xml version="1.0" encoding="zlib"?><a/>')  # a codec, but not a text one


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"not xml at all",
        b'{"json": true}',
        b"<a>",
        b"<a></b>",
        b"<a/><b/>",
        b"<a x='1' x='2'/>",
        b"<a>&undefined;</a>",
        b"<1a/>",
        b"<a>\x00</a>",
        b"<p:a/>",  # undeclared prefix
    ],
)
def test_invalid_xml_is_malformed(body: bytes) -> None:
    _malformed(body)


# --- rendering --------------------------------------------------------------------------------

ACTIVITY_NAMESPACES = {
    "name": xml_names.PLATFORM,
    "subtype/value": xml_names.COMMON,
    "content/type": xml_names.COMMON,
    "content/value": xml_names.COMMON,
}


def test_render_reproduces_example_1_and_parses_back() -> None:
    rendered = render_xml(
        "activity",
        EXAMPLE_1_JSON,
        namespace=xml_names.ACTIVITY,
        element_namespaces=ACTIVITY_NAMESPACES,
    )
    assert rendered.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
    assert (
        b'<activity xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/activity" '
        b'xmlns:ns2="http://bindings.egain.com/ws/model/v12/gen/platform" '
        b'xmlns:ns3="http://bindings.egain.com/ws/model/v12/gen/common">'
    ) in rendered
    assert b"<department><ns2:name>service</ns2:name></department>" in rendered
    assert b"<type><value>email</value><subtype><ns3:value>general</ns3:value>" in rendered
    assert b'<case id="1060"/>' in rendered
    assert b'<date date="2015-12-26T19:00:00.000Z"/>' in rendered
    assert b"<ns3:value>&lt;HTML&gt;...&lt;/HTML&gt;</ns3:value>" in rendered
    assert parse_xml(rendered) == ("activity", EXAMPLE_1_JSON)


def test_prefixes_are_numbered_in_order_of_first_use() -> None:
    rendered = render_xml(
        "r",
        {"c": {"x": "1"}, "b": "2", "a": "3", "c2": {"b": "4"}},
        namespace="urn:root",
        element_namespaces={"a": "urn:a", "b": "urn:b", "x": "urn:x", "urn-unused": "urn:u"},
    )
    assert rendered.decode() == (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<r xmlns="urn:root" xmlns:ns2="urn:x" xmlns:ns3="urn:b" xmlns:ns4="urn:a">'
        "<c><ns2:x>1</ns2:x></c><ns3:b>2</ns3:b><ns4:a>3</ns4:a><c2><ns3:b>4</ns3:b></c2></r>"
    )


def test_an_element_mapped_to_the_root_namespace_needs_no_prefix() -> None:
    rendered = render_xml("r", {"a": "1"}, namespace="urn:r", element_namespaces={"a": "urn:r"})
    assert rendered.endswith(b'<r xmlns="urn:r"><a>1</a></r>')


def test_render_scalars_lists_and_none() -> None:
    rendered = render_xml(
        "r",
        {
            "id": 1095,
            "secure": True,
            "read": False,
            "priority": 5,
            "ratio": 0.5,
            "missing": None,
            "link": [{"rel": "self", "href": "/x?a=1&b=2"}, None, {"rel": "case", "href": "/c"}],
            "tags": [],
        },
        namespace="urn:r",
    )
    assert rendered.endswith(
        b'<r xmlns="urn:r" id="1095"><secure>true</secure><read>false</read>'
        b"<priority>5</priority><ratio>0.5</ratio>"
        b'<link rel="self" href="/x?a=1&amp;b=2"/><link rel="case" href="/c"/></r>'
    )


def test_an_attribute_key_with_a_mapping_value_is_an_element() -> None:
    rendered = render_xml("r", {"date": {"date": "2015-12-26T19:00:00.000Z"}}, namespace="urn:r")
    assert rendered.endswith(b'<date date="2015-12-26T19:00:00.000Z"/></r>')
    rendered = render_xml("r", {"n": {"v": "1"}}, namespace="urn:r", attribute_keys=frozenset())
    assert rendered.endswith(b"<n><v>1</v></n></r>")


def test_render_escapes_markup_and_keeps_carriage_returns() -> None:
    data = {
        "subject": 'a < b & c > "d"',
        "body": "line1\r\nline2",
        "id": 'x"y\tz\n',
    }
    rendered = render_xml("r", data, namespace="urn:r")
    assert b'<subject>a &lt; b &amp; c &gt; "d"</subject>' in rendered
    assert parse_xml(rendered) == ("r", data)


def test_characters_xml_cannot_carry_become_replacement_characters() -> None:
    rendered = render_xml("r", {"s": "bell\x07 nul\x00 lone\ud800 ok"}, namespace="urn:r")
    assert parse_xml(rendered) == ("r", {"s": "bell\ufffd nul\ufffd lone\ufffd ok"})


def test_render_refuses_names_and_types_it_cannot_express() -> None:
    with pytest.raises(ValueError, match="not an XML"):
        render_xml("r", {"two words": "x"}, namespace="urn:r")
    with pytest.raises(ValueError, match="not an XML"):
        render_xml("ns:r", {}, namespace="urn:r")
    with pytest.raises(TypeError, match="object"):
        render_xml("r", {"x": object()}, namespace="urn:r")
    with pytest.raises(TypeError, match="list"):
        render_xml("r", {"x": [[1, 2]]}, namespace="urn:r")


def test_round_trip_of_a_v3_style_response() -> None:
    data = {
        "activity": [
            {
                "id": "1205",
                "link": [{"rel": "self", "href": "/core/casemgr/v3/activity/1205"}],
                "case": {"id": "1095", "link": [{"rel": "self", "href": "/c/1095"}]},
                "type": {"value": "email", "subtype": {"value": "general"}},
                "secure": "true",
                "customer": {"contacts": {"contact": [{"firstName": "Jöhn", "email": []}]}},
                "payload": {
                    "email": {"contents": {"content": [{"type": "text", "value": "日本"}]}}
                },
            }
        ]
    }
    rendered = render_xml("activities", data, namespace=xml_names.ACTIVITY)
    # Empty lists render nothing, so they do not come back; everything else does.
    expected = data
    expected["activity"][0]["customer"]["contacts"]["contact"][0].pop("email")
    assert parse_xml(rendered) == ("activities", expected)
