"""Pool application metadata: enable/list, metadata set/get/list/remove, errors for
unknown applications and keys, force for a second application."""


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    s.step("application_list_empty", lambda: io.application_list())
    s.step("application_enable", lambda: io.application_enable("app1"))
    s.step("application_enable_again", lambda: io.application_enable("app1"))
    s.step("application_list", lambda: io.application_list())
    s.step("application_enable_second", lambda: io.application_enable("app2"))
    s.step("application_enable_second_force", lambda: io.application_enable("app2", True))
    s.step("application_list_two", lambda: sorted(io.application_list()))
    s.step("metadata_list_empty", lambda: io.application_metadata_list("app1"))
    s.step("metadata_set", lambda: io.application_metadata_set("app1", "key1", "val1"))
    s.step("metadata_set2", lambda: io.application_metadata_set("app1", "key2", "val2"))
    s.step("metadata_get", lambda: io.application_metadata_get("app1", "key1"))
    s.step("metadata_list", lambda: sorted(io.application_metadata_list("app1")))
    s.step("metadata_get_missing_key", lambda: io.application_metadata_get("app1", "nope"))
    s.step("metadata_get_missing_app", lambda: io.application_metadata_get("nope", "key1"))
    s.step("metadata_set_missing_app", lambda: io.application_metadata_set("nope", "k", "v"))
    s.step("metadata_list_missing_app", lambda: io.application_metadata_list("nope"))
    s.step("metadata_remove", lambda: io.application_metadata_remove("app1", "key1"))
    s.step("metadata_remove_missing_key", lambda: io.application_metadata_remove("app1", "key1"))
    s.step("metadata_list_after_remove", lambda: io.application_metadata_list("app1"))
    s.step("metadata_set_bytes", lambda: io.application_metadata_set("app1", "k", b"v"))
    s.step("application_enable_bytes", lambda: io.application_enable(b"app3"))
    s.step(
        "application_list_other_handle",
        lambda: sorted(s.new_cluster().open_ioctx(io.get_pool_name()).application_list()),
    )
