"""The lowering layer: a network made into a torch module (``to_torch.py``), and that module counted by fvcore and
``torch.utils.flop_counter.FlopCounterMode`` against costmodel's own counts (``verify.py``). The only layer that
builds torch modules of its own; nothing here is imported until asked for."""
