from maritimeiq.topics import replication_factor


def test_replication_factor_is_three_at_most_and_never_above_broker_count():
    assert [replication_factor(n) for n in (1, 2, 3, 5)] == [1, 2, 3, 3]
