"""All 8 combinations of dueling / distributional / noisy, on both trunks."""

from __future__ import annotations

import copy
import io
import itertools

import pytest
import torch

from hamlet.compiler import brain_from_data, compile_brain, load_brain

COMBOS = list(itertools.product([False, True], repeat=3))
TRUNKS = {"simple_q": "full_layout", "recurrent_spatial_q": "partial_layout"}


def _variant(builtin: str, dueling: bool, distributional: bool, noisy: bool):
    data = copy.deepcopy(load_brain(builtin).doc.data)
    head = next(n for n, node in data["network"].items() if node["kind"] == "q_head")
    data["network"][head].update(
        dueling=dueling,
        distributional={"atoms": 11, "v_min": -5.0, "v_max": 5.0} if distributional else False,
        noisy={"sigma0": 0.4} if noisy else False,
    )
    return brain_from_data(data)


def _forward(module, obs, **kwargs):
    if module.recurrent:
        h, c = module.initial_state(obs.shape[0])
        return module(obs, h, c, **kwargs)[0]
    return module(obs, **kwargs)


@pytest.mark.parametrize("builtin", TRUNKS)
@pytest.mark.parametrize(("dueling", "distributional", "noisy"), COMBOS)
def test_every_head_combination_compiles_runs_and_round_trips(
    builtin, dueling, distributional, noisy, request
):
    layout = request.getfixturevalue(TRUNKS[builtin])
    brain = compile_brain(_variant(builtin, dueling, distributional, noisy), layout=layout)
    torch.manual_seed(0)
    module = brain.instantiate()
    obs = torch.randn(5, layout.obs_dim, generator=torch.Generator().manual_seed(3))

    q = _forward(module, obs)
    assert q.shape == (5, 6)
    assert torch.isfinite(q).all()
    assert (module.noisy, module.distributional) == (noisy, distributional)

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(1)  # a differently initialised twin
    twin = brain.instantiate()
    assert not torch.equal(_forward(twin, obs), q)
    twin.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    assert torch.equal(_forward(twin, obs), q)


@pytest.mark.parametrize("builtin", TRUNKS)
def test_distributional_q_is_the_expectation_of_the_atom_logits(builtin, request):
    layout = request.getfixturevalue(TRUNKS[builtin])
    module = compile_brain(_variant(builtin, True, True, False), layout=layout).instantiate()
    obs = torch.randn(3, layout.obs_dim)
    if module.recurrent:
        h, c = module.initial_state(3)
        logits, _, _ = module.q_logits(obs.unsqueeze(1), h, c)
        logits = logits[:, 0]
    else:
        logits = module.q_logits(obs)
    assert logits.shape == (3, 6, 11)
    support = torch.linspace(-5.0, 5.0, 11)
    expected = (torch.softmax(logits, dim=-1) * support).sum(-1)
    torch.testing.assert_close(_forward(module, obs), expected)


@pytest.mark.parametrize("builtin", TRUNKS)
def test_noisy_heads_are_deterministic_unless_noise_is_asked_for(builtin, request):
    layout = request.getfixturevalue(TRUNKS[builtin])
    module = compile_brain(_variant(builtin, False, False, True), layout=layout).instantiate()
    obs = torch.randn(4, layout.obs_dim)
    quiet = _forward(module, obs)
    assert torch.equal(_forward(module, obs), quiet)

    noisy_a = _forward(module, obs, noise=True, generator=torch.Generator().manual_seed(7))
    noisy_b = _forward(module, obs, noise=True, generator=torch.Generator().manual_seed(7))
    noisy_c = _forward(module, obs, noise=True, generator=torch.Generator().manual_seed(8))
    assert torch.equal(noisy_a, noisy_b)
    assert not torch.allclose(noisy_a, quiet)
    assert not torch.allclose(noisy_a, noisy_c)


def test_dueling_head_centres_the_advantages(full_layout):
    module = compile_brain(_variant("simple_q", True, False, False), layout=full_layout)
    net = module.instantiate()
    x = torch.randn(2, full_layout.obs_dim)
    head = net.net
    hidden = x
    for index in range(2):
        hidden = torch.relu(
            getattr(head, f"norm_{index}")(getattr(head, f"hidden_{index}")(hidden))
        )
    advantage = head.advantage(hidden)
    q = net(x)
    torch.testing.assert_close(
        q - q.mean(-1, keepdim=True), advantage - advantage.mean(-1, keepdim=True)
    )
    torch.testing.assert_close(q.mean(-1, keepdim=True), head.value(hidden))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_sequence_form_equals_stepping(partial_layout, kind, layers):
    # One step takes the generated gate-by-gate path, a sequence the torch kernel:
    # the two must agree, state included.
    data = copy.deepcopy(load_brain("recurrent_spatial_q").doc.data)
    data["network"]["lstm"].update(kind=kind, num_layers=layers)
    module = compile_brain(brain_from_data(data), layout=partial_layout).instantiate()
    kernel_calls = []
    module.lstm.register_forward_hook(lambda *_: kernel_calls.append(1))
    gen = torch.Generator().manual_seed(4)
    obs = torch.randn(3, 7, partial_layout.obs_dim, generator=gen)
    h0, c0 = (torch.randn(s.shape, generator=gen) for s in module.initial_state(3))
    q_seq, h_seq, c_seq = module.forward_sequence(obs, h0, c0)
    assert q_seq.shape == (3, 7, 6) and kernel_calls == [1]
    h, c = h0, c0
    for t in range(7):
        q, h, c = module(obs[:, t], h, c)
        torch.testing.assert_close(q, q_seq[:, t], atol=1e-5, rtol=1e-5)
    assert kernel_calls == [1]  # the steps never called the sequence kernel
    torch.testing.assert_close(h, h_seq, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c, c_seq, atol=1e-5, rtol=1e-5)


def test_gru_brain_carries_h_and_passes_c_through(partial_layout):
    data = copy.deepcopy(load_brain("recurrent_spatial_q").doc.data)
    data["network"]["lstm"] = {"kind": "gru", "input": "features", "hidden_size": 64}
    data["network"]["lstm_norm"]["input"] = "lstm"
    module = compile_brain(brain_from_data(data), layout=partial_layout).instantiate()
    assert module.recurrent == "gru"
    h, c = module.initial_state(2)
    c = torch.randn_like(c)
    q, h2, c2 = module(torch.randn(2, partial_layout.obs_dim), h, c)
    assert q.shape == (2, 6) and h2.shape == (1, 2, 64)
    assert not torch.equal(h2, h)
    assert torch.equal(c2, c)


def test_compiled_modules_hold_no_hidden_state(partial_layout):
    module = compile_brain("recurrent_spatial_q", layout=partial_layout).instantiate()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    obs = torch.randn(2, partial_layout.obs_dim)
    h, c = module.initial_state(2)
    first = module(obs, h, c)[0]
    module(torch.randn(2, partial_layout.obs_dim), h, c)
    assert torch.equal(module(obs, h, c)[0], first)
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert not list(module.buffers())


@pytest.mark.parametrize(("dueling", "distributional", "noisy"), COMBOS)
def test_no_head_variant_keeps_buffers_or_state(dueling, distributional, noisy, full_layout):
    brain = compile_brain(_variant("simple_q", dueling, distributional, noisy), layout=full_layout)
    module = brain.instantiate()
    assert not list(module.buffers())
    assert module.head_name == "net"
    assert set(module.state_dict()) == {n for n, _ in module.named_parameters()}
