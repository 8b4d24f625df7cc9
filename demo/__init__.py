"""The demo that `make run` serves: the demo tenant, its skills and the traffic simulator.

The top of the house: it may import every app, and nothing imports it.
"""
