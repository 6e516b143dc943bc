"""The runtime: models and checkpoints, the world, learning, recording, the viewer and
the ``hamlet`` command line. It builds on :mod:`hamlet.compiler` and
:mod:`hamlet.schemas`, never the other way round."""
