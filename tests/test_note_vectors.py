"""interlock.note and interlock.checkpoint against published vectors made by other programs.

Sources (none of these bytes were produced by interlock):
- golang.org/x/mod/sumdb/note note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen):
  the PeterNeumann / EnochRoot keys and notes.
- c2sp.org/signed-note, "Verifier keys" example (C2SP/C2SP signed-note.md at d4c16da5):
  example.com/foo vkey and note.
- c2sp.org/tlog-cosignature: the example cosignature line and signed message.
- transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier,
  TestCosignatureTimestamp): vkeys and a cosignature with timestamp 1727964367.
- golang.org/x/mod/sumdb/tlog note_test.go (TestFormatTree, TestParseTree).
- Real sum.golang.org signed tree heads (a Go lookup capture of golang.org/x/sync@v0.1.0, and
  the libp2p go-libp2p-blankhost@v0.2.0 lookup quoted in a blog post) with Go's built-in
  sum.golang.org verifier key.
- tests/data/note/arche2025h1-checkpoint.txt: a real static-CT checkpoint with four real
  witness cosignatures (see tests/data/note/README.md).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from conftest import DATA
from interlock.checkpoint import (
    Checkpoint,
    cosign_checkpoint,
    cosignature_message,
    cosigner_vkey,
    open_checkpoint,
    parse_checkpoint,
    parse_cosignature,
    verify_cosignature,
)
from interlock.errors import (
    CheckpointError,
    CosignatureError,
    NoteError,
    NoteKeyError,
    NoteVerificationError,
)
from interlock.note import (
    Verifier,
    VerifierList,
    add_signature_lines,
    key_id,
    new_signer_key,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    split_note,
    verify_note,
)
from interlock.tlog import leaf_hash

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ENOCH_B64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
PETER_SIG = f"— PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_B64}\n"

SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTES = [
    (
        65209736,
        "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
        "— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l/"
        "R3cVtYspg3dxXABkGZZKdsQ8=\n",
    ),
    (
        3784599,
        "go.sum database tree\n3784599\n7uvxIZ67TZygcq/AehTD8iHYt81Ih+Zl2Y7vXZbfszQ=\n\n"
        "— sum.golang.org Az3grn972wXskjQrsZhVGc93fTU2uOsmSTiId1Wn1lxDCup5z4ggl1/4gaUqOkMa6cMbYvjB7hn7y"
        "emNr7Zqanol/go=\n",
    ),
]

ARCHE_NOTE = (DATA / "note" / "arche2025h1-checkpoint.txt").read_bytes()
ARCHE_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
ARCHE_WITNESSES = [
    "transparency.dev/DEV:witness-little-garden+d8042a87+BCtusOxINQNUTN5Oj8HObRkh2yHf/MwYaGX4CPdiVEPM",
    "witness1.smartit.nu/witness1+a48c820f+BPSFWg9G6KPiO7QPryYO5Xq4oYJJ+kAvLKLSimDhoxMO",
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    "witness.stagemole.eu+67f7aea0+BEqSG3yu9YrmcM3BHvQYTxwFj3uSWakQepafafpUqklv",
]


# --- keys -------------------------------------------------------------------------------------


def test_go_signer_key_gives_go_verifier_key_and_key_id() -> None:
    signer = parse_signer_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert signer.skey == PETER_SKEY
    assert signer.verifier.vkey == PETER_VKEY
    v = parse_verifier_key(PETER_VKEY)
    assert (v.name, v.key_id, v.alg) == ("PeterNeumann", 0xC74F20A3, 1)
    assert key_id("PeterNeumann", 1, v.public_key) == 0xC74F20A3


def test_spec_vkey_parses_to_the_published_public_key() -> None:
    v = parse_verifier_key(SPEC_VKEY)
    assert v.name == "example.com/foo"
    assert v.key_id == 0x530D903A
    assert v.public_key.hex() == "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4"
    assert v.vkey == SPEC_VKEY


def test_every_mangling_of_the_go_keys_is_refused() -> None:
    # Go's TestNewVerifier / TestNewSigner: every proper substring and every byte+1 fails.
    parsers: list[tuple[str, Callable[[str], object]]] = [
        (PETER_VKEY, parse_verifier_key),
        (PETER_SKEY, parse_signer_key),
    ]
    for key, parse in parsers:
        for i in range(len(key)):
            for j in range(i + 1, len(key) + 1):
                if (i, j) != (0, len(key)):
                    with pytest.raises(NoteKeyError):
                        parse(key[i:j])
        for k in range(len(key)):
            mangled = key[:k] + chr(ord(key[k]) + 1) + key[k + 1 :]
            with pytest.raises(NoteKeyError):
                parse(mangled)
    # wrong key length and unknown algorithm, each with a matching key id
    with pytest.raises(NoteKeyError):
        parse_verifier_key("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    with pytest.raises(NoteKeyError, match="algorithm"):
        parse_verifier_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_new_signer_key_is_go_shaped_and_deterministic_from_a_seed() -> None:
    seed = bytes(range(32))
    skey, vkey = new_signer_key("log.example/agreement-1", seed)
    assert (skey, vkey) == new_signer_key("log.example/agreement-1", seed)
    parts = skey.split("+")
    assert parts[:3] == ["PRIVATE", "KEY", "log.example/agreement-1"]
    assert base64.b64decode(skey.split("+", 4)[4]) == b"\x01" + seed
    assert vkey.split("+")[1] == parts[3]
    assert parse_signer_key(skey).verifier == parse_verifier_key(vkey)
    assert new_signer_key("x")[0] != new_signer_key("x")[0]  # random without a seed
    for bad in ["", "a b", "a+b", "tab\there"]:
        with pytest.raises(NoteKeyError):
            new_signer_key(bad, seed)


# --- notes ------------------------------------------------------------------------------------


def test_sign_reproduces_go_note_byte_for_byte() -> None:
    assert sign_note(TEXT, PETER_SKEY) == (TEXT + "\n" + PETER_SIG).encode()
    with pytest.raises(NoteError):
        sign_note("abc", PETER_SKEY)  # text must end in a newline


def test_spec_note_verifies_and_a_changed_text_does_not() -> None:
    note = verify_note(SPEC_NOTE.encode(), [SPEC_VKEY])
    assert note.text == "This is an example message.\n"
    assert note.verified_names == ("example.com/foo",)
    with pytest.raises(NoteVerificationError):
        verify_note(SPEC_NOTE.replace("example message", "example massage"), [SPEC_VKEY])


def test_go_open_known_and_unknown_signatures() -> None:
    note = verify_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER_VKEY])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = verify_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER_VKEY, ENOCH_VKEY])
    assert both.verified_names == ("PeterNeumann", "EnochRoot")
    assert both.unverified == ()
    with pytest.raises(NoteVerificationError, match="no valid signature"):
        verify_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(NoteError):  # Go's limit of 100 signatures
        verify_note(TEXT + "\n" + PETER_SIG * 101, [PETER_VKEY])
    with pytest.raises(NoteVerificationError, match="PeterNeumann"):
        verify_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [PETER_VKEY])
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    dup = verify_note(TEXT + "\n" + PETER_SIG * 2 + ENOCH_SIG * 2 + enoch_abcd, [PETER_VKEY])
    assert dup.verified_names == ("PeterNeumann",)
    assert len(dup.unverified) == 2  # the repeated Enoch line once, the altered one once


def test_go_open_malformed_notes() -> None:
    bad = [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + f"— Bad Name {PETER_B64}",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ]
    for note in bad:
        with pytest.raises(NoteError):
            verify_note(note, [PETER_VKEY])
    with pytest.raises(NoteError):
        verify_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [PETER_VKEY])


def test_identical_duplicate_keys_are_fine_conflicting_ones_are_refused() -> None:
    verify_note(TEXT + "\n" + ENOCH_SIG, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY])
    enoch = parse_verifier_key(ENOCH_VKEY)
    impostor = Verifier(enoch.name, enoch.key_id, 1, parse_verifier_key(PETER_VKEY).public_key)
    with pytest.raises(NoteKeyError, match="ambiguous"):
        VerifierList([enoch, impostor])


def test_add_signature_lines_appends_only_signature_lines() -> None:
    note = (TEXT + "\n" + PETER_SIG).encode()
    both = add_signature_lines(note, [ENOCH_SIG])
    assert verify_note(both, [PETER_VKEY, ENOCH_VKEY]).verified_names == ("PeterNeumann", "EnochRoot")
    for bad in ["\n" + ENOCH_SIG, ENOCH_SIG[:-1], "junk\n", ENOCH_SIG + "\n"]:
        with pytest.raises(NoteError):
            add_signature_lines(note, [bad])


def test_split_note_uses_the_last_blank_line() -> None:
    text, sigs = split_note("a\n\nb\n\n" + PETER_SIG)
    assert text == "a\n\nb\n"
    assert len(sigs) == 1


# --- checkpoints ------------------------------------------------------------------------------


def test_go_tree_format_is_a_checkpoint() -> None:
    golden = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
    cp = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert cp.text() == golden
    assert parse_checkpoint(golden) == cp
    for bad in [
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40Hmuw\n",  # 30 bytes
        "\n123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n\nx\n",
        "go.sum database tree\n123\n",
        "go.sum database tree\n123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=",
        f"o\n{2**63}\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    ]:
        with pytest.raises(CheckpointError):
            parse_checkpoint(bad)
    ext = parse_checkpoint(golden + "extension one\n")
    assert ext.extensions == ("extension one",)
    assert parse_checkpoint(f"o\n0\n{base64.b64encode(bytes(32)).decode()}\n").size == 0


@pytest.mark.parametrize(("size", "note"), SUMDB_NOTES)
def test_real_sum_golang_org_tree_heads_verify(size: int, note: str) -> None:
    signed = open_checkpoint(note, SUMDB_VKEY)
    assert signed.checkpoint.origin == "go.sum database tree"
    assert signed.checkpoint.size == size
    with pytest.raises(NoteVerificationError):
        open_checkpoint(note.replace(str(size), str(size + 1)), SUMDB_VKEY)
    with pytest.raises(CheckpointError):
        open_checkpoint(note, SUMDB_VKEY, origin="sum.golang.org")
    with pytest.raises(NoteError):  # without the final newline (as a Go benchmark stores one)
        open_checkpoint(note.rstrip("\n"), SUMDB_VKEY)


def test_real_checkpoint_with_four_witness_cosignatures() -> None:
    signed = open_checkpoint(ARCHE_NOTE, ARCHE_LOG_VKEY, ARCHE_WITNESSES)
    assert signed.checkpoint.size == 1432088532
    assert signed.witnesses == (
        "transparency.dev/DEV:witness-little-garden",
        "witness1.smartit.nu/witness1",
        "remora.n621.de",
        "witness.stagemole.eu",
    )
    assert {c.timestamp for c in signed.cosignatures} == {0x6A122120}
    # the log's RFC 6962 TreeHeadSignature (type 0x05) is an unknown signature: ignored
    assert [s.key_id for s in signed.note.unverified] == [0xCD333CB1]
    text, sigs = split_note(ARCHE_NOTE)
    for vkey, sig in zip(ARCHE_WITNESSES, sigs[2:], strict=True):
        assert verify_cosignature(text, sig, vkey).timestamp == 1779573024
    with pytest.raises(CosignatureError):  # remora's line is not stagemole's
        verify_cosignature(text, sigs[4], ARCHE_WITNESSES[3])
    clobbered = ARCHE_NOTE.replace(b"1432088532", b"42")
    with pytest.raises(NoteVerificationError):
        open_checkpoint(clobbered, ARCHE_LOG_VKEY, ARCHE_WITNESSES)
    with pytest.raises(CosignatureError):
        verify_cosignature(text.replace("1432088532", "42"), sigs[2], ARCHE_WITNESSES[0])
    # a witness key alone does not make a checkpoint: the log must have signed it
    with pytest.raises(NoteVerificationError):
        open_checkpoint(ARCHE_NOTE, SPEC_VKEY, ARCHE_WITNESSES)


# --- cosignatures -----------------------------------------------------------------------------


def test_spec_cosignature_line_and_message() -> None:
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2o"
        "yin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    cosig = parse_cosignature(line)
    assert (cosig.name, cosig.key_id, cosig.timestamp) == ("witness.example.com/w1", 0x8D66CF3F, 1679315147)
    assert cosig.line == line + "\n"
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_formats_cosignature_timestamp_and_key_vectors() -> None:
    works = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
    assert parse_cosignature(f"— w {works}").timestamp == 1727964367
    plain = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="
    with pytest.raises(CosignatureError):
        parse_cosignature(f"— w {plain}")
    with pytest.raises(CosignatureError):
        parse_cosignature("— w 5%/$! 2")
    # a type-0x01 vkey converts to the cosigner's 0x04 key; a native 0x04 vkey parses as is
    converted = parse_verifier_key(cosigner_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"))
    assert converted.alg == 4
    assert converted.key_id == key_id("TEST", 4, converted.public_key) != 0x7997405C
    remora = parse_verifier_key("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    assert (remora.alg, remora.key_id) == (4, 0xDA77ADE7)
    for bad in [
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
    ]:
        with pytest.raises(NoteKeyError):
            parse_verifier_key(bad)


def test_cosign_checkpoint_round_trip_with_the_go_key() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    line = cosign_checkpoint(body, PETER_SKEY, 1679315147)
    cosig = verify_cosignature(body, line, PETER_VKEY)  # 0x01 vkey, converted
    assert cosig.timestamp == 1679315147
    assert cosig.key_id == key_id("PeterNeumann", 4, parse_verifier_key(PETER_VKEY).public_key)
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64 and raw[4:12] == (1679315147).to_bytes(8, "big")
    signed = sign_note(body, PETER_SKEY) + line.encode()
    # the same Ed25519 key as note signer and as cosigner: two different key ids, both verify
    opened = open_checkpoint(signed, PETER_VKEY, [PETER_VKEY])
    assert opened.witnesses == ("PeterNeumann",)
    with pytest.raises(CosignatureError):
        cosign_checkpoint(body, PETER_SKEY, 0)
    with pytest.raises(CheckpointError):
        cosign_checkpoint("not a checkpoint\n", PETER_SKEY, 1)
