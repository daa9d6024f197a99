"""Spark batch jobs of the platform: each module has ``main()`` -> extract -> transform -> load."""
