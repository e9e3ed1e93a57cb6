import pytest
import torch
import torch.nn.functional as F

from espnet_ext.sttatts.task_fusion import TASKS, TaskFusion


def test_identity_init_returns_the_frames_unchanged_for_every_task():
    fusion = TaskFusion(d_model=16, task_dim=8, init="identity")
    x = torch.randn(3, 5, 16)
    for task_id in range(len(TASKS)):
        assert torch.equal(fusion(x, task_id), x)
    assert torch.equal(fusion(x, torch.tensor([0, 1, 2])), x)


def test_fixed_vectors_are_the_released_codes_seeded_unit_vectors_in_a_buffer():
    fusion = TaskFusion(d_model=16, task_dim=128, learned_vectors=False)
    for task_id, seed in ((0, 1), (1, 2), (2, 3)):  # STTATTS: s2t = 1, t2s = 2; vc continues
        expected = F.normalize(torch.randn(1, 128, generator=torch.Generator().manual_seed(seed)))[0]
        assert torch.equal(fusion.task_vectors[task_id], expected)
    assert torch.allclose(fusion.task_vectors.norm(dim=-1), torch.ones(3))
    assert "task_vectors" in dict(fusion.named_buffers())
    assert "task_vectors" not in dict(fusion.named_parameters())


def test_learned_vectors_are_parameters():
    fusion = TaskFusion(d_model=16, task_dim=8, learned_vectors=True)
    assert "task_vectors" in dict(fusion.named_parameters())


def test_task_vector_comes_first_in_the_concatenation():
    fusion = TaskFusion(d_model=4, task_dim=3)
    with torch.no_grad():
        fusion.proj.weight.zero_()
        fusion.proj.weight[:3, :3] = torch.eye(3)  # output = the task vector (first 3 inputs)
    y = fusion(torch.randn(2, 6, 4), torch.tensor([1, 2]))
    assert torch.equal(y[0, :, :3], fusion.task_vectors[1].expand(6, 3))
    assert torch.equal(y[1, :, :3], fusion.task_vectors[2].expand(6, 3))


def test_random_init_conditions_frames_on_the_task():
    torch.manual_seed(0)
    fusion = TaskFusion(d_model=64, task_dim=128, init="random")
    assert torch.equal(fusion.proj.bias, torch.zeros(64))
    assert abs(float(fusion.proj.weight.std()) - 0.02) < 0.002
    x = torch.randn(1, 3, 64)
    assert not torch.allclose(fusion(x, 0), fusion(x, 1))


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="position"):
        TaskFusion(8, position="middle")
    with pytest.raises(ValueError, match="init"):
        TaskFusion(8, init="zeros")
