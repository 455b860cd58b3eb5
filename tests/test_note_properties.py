"""Properties of signed notes, checkpoints and cosignatures that hold for all inputs."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from interlock.errors import CosignatureError, NoteError, NoteVerificationError
from interlock.note import (
    Signature,
    new_signer_key,
    parse_signature_line,
    parse_signer_key,
    sign_note,
    split_note,
    verify_note,
)


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


LOG_SKEY, LOG_VKEY = new_signer_key("log.example/agreement", seed("log"))
W1_SKEY, W1_VKEY = new_signer_key("witness.example/one", seed("w1"))
W2_SKEY, W2_VKEY = new_signer_key("witness.example/two", seed("w2"))

# printable text without control characters; lines may be empty
line_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=["Cs"]), max_size=40)
note_text = st.lists(line_text, min_size=1, max_size=5).map(lambda ls: "\n".join(ls) + "\n")
key_name = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="+"), min_size=1, max_size=20
)
seeds = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(note_text, key_name, seeds)
def test_any_text_signed_by_any_key_verifies(text: str, name: str, key_seed: bytes) -> None:
    skey, vkey = new_signer_key(name, key_seed)
    note = verify_note(sign_note(text, skey), [vkey])
    assert note.text == text
    assert note.verified_names == (name,)


@settings(max_examples=80, deadline=None)
@given(note_text, st.data())
def test_any_change_to_the_text_is_detected(text: str, data: st.DataObject) -> None:
    signed = sign_note(text, LOG_SKEY).decode()
    cut = len(text)
    pos = data.draw(st.integers(0, cut - 1))
    replacement = data.draw(st.sampled_from(["x", "é", "\n", "", "yy"]))
    forged = signed[:pos] + replacement + signed[pos + 1 :]
    if forged == signed:
        return
    with pytest.raises((NoteError, NoteVerificationError)):
        verify_note(forged, [LOG_VKEY])


@settings(max_examples=80, deadline=None)
@given(note_text, st.integers(0, (4 + 64) * 8 - 1))
def test_any_flipped_signature_bit_is_detected(text: str, bit: int) -> None:
    _, sigs = split_note(sign_note(text, LOG_SKEY))
    raw = bytearray(sigs[0].key_id.to_bytes(4, "big") + sigs[0].sig)
    raw[bit // 8] ^= 1 << (bit % 8)
    flipped = Signature(sigs[0].name, int.from_bytes(raw[:4], "big"), bytes(raw[4:]))
    # a flipped key-id bit makes the signature unknown (ignored); then nothing trusted signed
    with pytest.raises(NoteVerificationError):
        verify_note(text + "\n" + flipped.line, [LOG_VKEY])


@settings(max_examples=50, deadline=None)
@given(
    note_text,
    st.lists(st.tuples(key_name, seeds), min_size=1, max_size=15),
    st.randoms(use_true_random=False),
)
def test_unknown_signatures_are_ignored(text: str, strangers: list[tuple[str, bytes]], rnd: random.Random) -> None:
    lines = [sign_note(text, LOG_SKEY).decode().removeprefix(text + "\n")]
    for name, key_seed in strangers:
        skey, _ = new_signer_key(name, key_seed)
        if parse_signer_key(skey).verifier.vkey == LOG_VKEY:
            continue
        lines.append(sign_note(text, skey).decode().removeprefix(text + "\n"))
    rnd.shuffle(lines)
    note = verify_note(text + "\n" + "".join(lines), [LOG_VKEY])
    assert note.verified_names == ("log.example/agreement",)
    assert len(note.unverified) == len({line for line in lines}) - 1


@settings(max_examples=30, deadline=None)
@given(note_text)
def test_a_bad_signature_by_a_known_key_rejects_the_note(text: str) -> None:
    good = sign_note(text, LOG_SKEY).decode()
    other = sign_note("another text\n", W1_SKEY).decode().removeprefix("another text\n\n")
    with pytest.raises(NoteVerificationError, match=r"witness\.example/one"):
        verify_note(good + other, [LOG_VKEY, W1_VKEY])
    # but the same line from a key nobody trusts is ignored
    assert verify_note(good + other, [LOG_VKEY]).verified_names == ("log.example/agreement",)


origins = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)
extensions = st.lists(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20), max_size=3
)


@settings(max_examples=100, deadline=None)
@given(origins, st.integers(0, 2**63 - 1), st.binary(min_size=32, max_size=32), extensions)
def test_checkpoint_text_round_trips(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert parse_checkpoint(cp.text()) == cp
    assert cp.text().count("\n") == 3 + len(ext)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**9), st.binary(min_size=32, max_size=32), st.integers(1, 2**63 - 1))
def test_cosignatures_verify_and_bind_checkpoint_and_time(size: int, root: bytes, ts: int) -> None:
    cp = Checkpoint("log.example/agreement", size, root)
    line1 = cosign_checkpoint(cp, W1_SKEY, ts)
    line2 = cosign_checkpoint(cp, W2_SKEY, ts)
    signed = sign_checkpoint(cp, LOG_SKEY) + (line1 + line2).encode()
    opened = open_checkpoint(signed, LOG_VKEY, [W1_VKEY, W2_VKEY], origin="log.example/agreement")
    assert opened.witnesses == ("witness.example/one", "witness.example/two")
    assert [c.timestamp for c in opened.cosignatures] == [ts, ts]
    # only the witnesses asked for are reported; others are ignored
    assert open_checkpoint(signed, LOG_VKEY, [W2_VKEY]).witnesses == ("witness.example/two",)
    other = Checkpoint("log.example/agreement", size + 1, root)
    with pytest.raises(CosignatureError):
        verify_cosignature(other, line1, W1_VKEY)
    sig = parse_signature_line(line1.removesuffix("\n"))
    moved = Signature(sig.name, sig.key_id, ((ts - 1).to_bytes(8, "big")) + sig.sig[8:])
    with pytest.raises(CosignatureError):
        verify_cosignature(cp, moved, W1_VKEY)
    # a cosignature is not a plain note signature: the 0x01 key id differs, so it is unknown
    with pytest.raises(NoteVerificationError):
        verify_note(cp.text() + "\n" + line1, [W1_VKEY])
