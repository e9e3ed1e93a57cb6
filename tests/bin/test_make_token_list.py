from espnet_ext.bin.make_token_list import main


def test_text_counts_give_speecht5_layout_by_frequency(tmp_path):
    (tmp_path / "text").write_text("u1 ab a\nu2 b a\n")
    assert main(["--text", str(tmp_path / "text"), "--out", str(tmp_path / "tokens.txt")]) == 0
    tokens = (tmp_path / "tokens.txt").read_text().splitlines()
    # a:3, ▁:2, b:2 (tie broken by character: '▁' sorts after 'b')
    assert tokens == ["<s>", "<pad>", "</s>", "<unk>", "a", "b", "▁", "<mask>", "<ctc_blank>"]


def test_fairseq_dict_keeps_checkpoint_order(tmp_path):
    (tmp_path / "dict.txt").write_text("▁ 100\ne 90\nt 80\n")
    main(["--from_dict", str(tmp_path / "dict.txt"), "--out", str(tmp_path / "t.txt")])
    assert (tmp_path / "t.txt").read_text().splitlines()[3:7] == ["<unk>", "▁", "e", "t"]


def test_spm_model_gives_transformers_vocabulary(tmp_path):
    import sentencepiece as spm

    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world\nthe cat sat\n" * 20)
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "spm_char"), model_type="char", vocab_size=14,
        bos_id=0, pad_id=1, eos_id=2, unk_id=3,
    )
    main(["--from_spm", str(tmp_path / "spm_char.model"), "--out", str(tmp_path / "t.txt")])
    tokens = (tmp_path / "t.txt").read_text().splitlines()
    assert tokens[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and tokens[-2:] == ["<mask>", "<ctc_blank>"]
    assert "▁" in tokens and len(tokens) == 14 + 2
