"""Stage 4: character token list, in SpeechT5's layout so checkpoints' embeddings line up.

    python -m espnet_ext.bin.make_token_list --text dump/raw/train/text --out data/token_list/char/tokens.txt
    python -m espnet_ext.bin.make_token_list --from_dict speecht5/dict.txt --out ...   # fairseq dict
    python -m espnet_ext.bin.make_token_list --from_spm speecht5_asr/spm_char.model --out ...  # HF dir's

Layout (fairseq / SpeechT5): ``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3, then the characters
(most frequent first, as fairseq's dict.txt; the space is ``▁`` as in SpeechT5's sentencepiece
model), then ``<mask>`` and ``<ctc_blank>``. One token per line; the line number is the id.
When initialising from a checkpoint the list MUST come from that checkpoint's dictionary
(``--from_dict`` / ``--from_spm``), or the embedding rows would mean other characters.
"""
import argparse
import sys
from collections import Counter
from pathlib import Path

HEAD = ("<s>", "<pad>", "</s>", "<unk>")
TAIL = ("<mask>", "<ctc_blank>")
SPACE = "▁"


def count_chars(text_files: list, space: str = SPACE) -> Counter:
    """Character counts over Kaldi ``text`` files (first column is the utterance id)."""
    counts = Counter()
    for path in text_files:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            _, _, text = line.partition(" ")
            counts.update(space if ch == " " else ch for ch in text.strip())
    return counts


def token_list_from_counts(counts: Counter) -> list:
    """Specials, then characters by descending count (ties by character), then tail specials."""
    chars = sorted((c for c in counts if c not in HEAD + TAIL), key=lambda c: (-counts[c], c))
    return [*HEAD, *chars, *TAIL]


def token_list_from_fairseq_dict(path) -> list:
    """fairseq ``dict.txt`` lines ``<symbol> <count>`` -> the model's full vocabulary."""
    symbols = [line.rsplit(" ", 1)[0] for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [*HEAD, *symbols, *TAIL]


def token_list_from_spm(path) -> list:
    """A SpeechT5 ``spm_char.model`` (ids 0-3 are its specials) -> vocabulary as transformers builds it."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(path))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return [*pieces, *TAIL]


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", nargs="+", help="Kaldi text file(s) to count characters in")
    src.add_argument("--from_dict", help="fairseq dict.txt of a SpeechT5/ArTST checkpoint")
    src.add_argument("--from_spm", help="spm_char.model of a Hugging Face SpeechT5 directory")
    p.add_argument("--out", required=True, help="output token list (one token per line)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if args.text:
        tokens = token_list_from_counts(count_chars(args.text))
    elif args.from_dict:
        tokens = token_list_from_fairseq_dict(args.from_dict)
    else:
        tokens = token_list_from_spm(args.from_spm)
    if len(set(tokens)) != len(tokens):
        dup = sorted(t for t, n in Counter(tokens).items() if n > 1)
        raise SystemExit(f"duplicate tokens in the list: {dup}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {len(tokens)} tokens to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
