"""The commit rule of the internal topics: never past a record that has not been processed."""
from pssync.streams.kafka_transport import head_is_missing


def test_an_unbroken_run_from_the_committed_offset_may_be_committed():
    assert not head_is_missing([10, 11, 12], committed=10, log_start=None)


def test_a_record_missing_right_after_the_committed_offset_holds_the_commit_back():
    # Faust itself lets one missing offset pass (a transaction marker); internal topics have none
    assert head_is_missing([11, 12], committed=10, log_start=None)


def test_a_partition_never_committed_is_measured_from_its_first_offset():
    assert head_is_missing([5, 6], committed=None, log_start=0)
    assert not head_is_missing([0, 1], committed=None, log_start=0)
    assert not head_is_missing([40, 41], committed=None, log_start=40)   # older records deleted


def test_committed_zero_is_read_as_never_committed():
    assert head_is_missing([3], committed=0, log_start=0)


def test_nothing_acknowledged_or_nothing_known_leaves_faust_to_decide():
    assert not head_is_missing([], committed=10, log_start=None)
    assert not head_is_missing([7], committed=None, log_start=None)
