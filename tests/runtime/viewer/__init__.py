"""Tests of the terminal viewer (hamlet.runtime.viewer)."""
