"""RND: novelty fades where the predictor trains, it trains as often as told, and a
restored RND goes on exactly as the one it was saved from."""

from __future__ import annotations

import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.rnd import RND, RunningMoments
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack

from ..conftest import tiny_pack


def _rnd(train_every: int = 1) -> RND:
    return RND(12, embed_dim=8, hidden=[16], learning_rate=1e-2, seed=0, train_every=train_every)


def _batches(count: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return [torch.rand(32, 12, generator=generator) for _ in range(count)]


def _parameters(rnd: RND) -> list[torch.Tensor]:
    return [p.detach().clone() for p in rnd.predictor.parameters()]


def test_running_moments_are_those_of_every_batch_together():
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randn(n, 3, generator=generator) * 4 + 2 for n in (64, 1, 17, 64)]
    moments = RunningMoments((3,), "cpu")
    for batch in batches:
        moments.update(batch)
    everything = torch.cat(batches)
    # (it starts from a prior of mean 0, variance 1 weighing 1e-4 of a value)
    torch.testing.assert_close(moments.mean, everything.mean(0), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(moments.var, everything.var(0, unbiased=False), rtol=1e-4, atol=1e-4)


def test_novelty_fades_on_what_the_predictor_trains_on():
    rnd, seen = _rnd(), torch.rand(32, 12, generator=torch.Generator().manual_seed(2))
    first = rnd.novelty(seen).mean()
    for _ in range(200):
        rnd.reward(seen)
    assert rnd.novelty(seen).mean() < 0.5 * first


def test_the_predictor_trains_on_every_nth_batch_and_reads_every_batch():
    rnd, batches = _rnd(train_every=3), _batches(7)
    trained = []
    for batch in batches:
        before = _parameters(rnd)
        novelty = rnd.reward(batch)
        assert novelty.shape == (32,) and bool(torch.isfinite(novelty).all())
        changed = any(not torch.equal(a, b) for a, b in zip(before, _parameters(rnd), strict=True))
        trained.append(changed)
    assert trained == [True, False, False, True, False, False, True]
    assert (rnd.calls, rnd.updates) == (7, 3)
    # the statistics follow every batch, trained or not
    assert rnd.obs_stats.count > 7 * 32 - 1


def test_a_restored_rnd_trains_on_the_same_batches_as_one_straight_through():
    batches = _batches(9)
    straight, first = _rnd(train_every=4), _rnd(train_every=4)
    for batch in batches:
        straight.reward(batch)
    for batch in batches[:5]:
        first.reward(batch)
    resumed = _rnd(train_every=4)
    resumed.load_state_dict(first.state_dict())
    for batch in batches[5:]:
        resumed.reward(batch)
    assert resumed.updates == straight.updates == 3
    for a, b in zip(_parameters(resumed), _parameters(straight), strict=True):
        torch.testing.assert_close(a, b)


def test_a_checkpoint_from_before_train_every_counts_its_updates_as_calls():
    rnd = _rnd()
    for batch in _batches(3):
        rnd.reward(batch)
    state = rnd.state_dict()
    del state["calls"]
    restored = _rnd(train_every=2)
    restored.load_state_dict(state)
    assert restored.calls == 3  # so the next batch (the 4th) is not trained on
    before = _parameters(restored)
    restored.reward(_batches(4)[-1])
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(restored), strict=True))


def test_the_pack_setting_reaches_the_trainer(tmp_path):
    source = tiny_pack(tmp_path)
    training = source / "training.yaml"
    text = training.read_text()
    assert "learning_rate: 0.0001}" in text
    training.write_text(
        text.replace("learning_rate: 0.0001}", "learning_rate: 0.0001, train_every: 5}", 1)
    )
    pack = load_pack(source)
    trainer = Trainer(pack, HamletModel.from_spec(source / "brain.yaml", seed=0), seed=0)
    assert trainer.rnd is not None and trainer.rnd.train_every == 5
