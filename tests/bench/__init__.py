"""Tests of `hub bench`."""
