"""Benchmarks of what operators wait for, run on the local lab (`make bench`)."""
