"""Publishing the tenant's plugin marketplace with real git: a bare repository on disk served over
the smart HTTP protocol by `git http-backend` behind a token check (tests/skills/gitserver.py).
Clone, fetch and push go over the wire; every fault ends in one clear line and the next publish
completes what was left."""

import io
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command

from connectors.plugin_remote import plugin_remote_configure
from skills.ir.importers import SkillSource, read_folder, sources_from_tree
from skills.ir.validation import ir_normalized
from skills.models import PluginMarketplace, Skill
from skills.services.imports import skills_import
from skills.targets.plugin import git as plugin_git
from skills.targets.plugin.build import CARRIED_FIELDS
from skills.targets.plugin.publish import PluginOutcome, plugin_pending, plugin_publish
from tests.skills.gitserver import TOKEN, GitServer, bare_repository, git
from tests.skills.helpers import minimal_ir


def _log(bare) -> list[str]:
    return git("--git-dir", str(bare), "log", "--format=%H %an <%ae> %s", "main").splitlines()


def _clone(bare, into) -> dict[str, bytes]:
    git("clone", "--quiet", str(bare), str(into))
    shutil.rmtree(into / ".git")
    return read_folder(into)


# ---- publishing ---------------------------------------------------------------------------


def test_first_publish_pushes_one_commit_listing_the_skills_added(bare, two_skills, tenant):
    # given a tenant with two skills and an empty remote
    # when the marketplace is published
    result = plugin_publish(tenant=tenant)
    # then one commit by Claresia, naming both skills, is on the remote's main
    assert result.outcome == PluginOutcome.PUBLISHED, result.error
    assert result.changes.added == tuple(two_skills)
    (line,) = _log(bare)
    assert line.startswith(result.commit)
    assert "Claresia <plugins@claresia.invalid>" in line
    message = git("--git-dir", str(bare), "show", "-s", "--format=%B", "main")
    assert "Added: incident-postmortem, prd-review" in message
    # and the state records it
    state = PluginMarketplace.objects.get(tenant=tenant)
    assert state.last_commit == result.commit and state.last_error == ""
    assert set(state.published_skills) == set(two_skills)


def test_the_pushed_repository_reads_back_into_the_same_ir(bare, two_skills, tenant, tmp_path):
    # given a published marketplace
    assert plugin_publish(tenant=tenant).ok
    # when it is cloned and every file read back through the importer
    tree = _clone(bare, tmp_path / "clone")
    sources = sources_from_tree(tree, "clone")
    # then each skill is its IR again, with its knowledge file
    assert {s.document["id"] for s in sources} == set(two_skills)
    for source in sources:
        skill = Skill.objects.get(tenant=tenant, skill_id=source.document["id"])
        carried = {k: v for k, v in ir_normalized(skill.ir).items() if k in CARRIED_FIELDS}
        back = {k: v for k, v in ir_normalized(source.document).items() if k in CARRIED_FIELDS}
        assert back == carried
        for item in skill.ir.get("knowledge") or []:
            assert source.files[item["path"]] == bytes(skill.knowledge_files.get().content)
    assert ".agents/plugins/marketplace.json" in tree and "README.md" in tree


def test_publishing_the_same_skills_twice_makes_one_commit(bare, two_skills, tenant, settings):
    # given a published marketplace
    first = plugin_publish(tenant=tenant)
    # when it is published again, even from a cache that was lost
    again = plugin_publish(tenant=tenant)
    shutil.rmtree(settings.PLUGIN_REPOS_DIR)
    fresh = plugin_publish(tenant=tenant)
    # then nothing is committed or pushed
    assert again.outcome == fresh.outcome == PluginOutcome.UNCHANGED
    assert again.commit == fresh.commit == first.commit
    assert len(_log(bare)) == 1


def test_the_first_commit_is_dated_from_the_skills_not_2025(bare, two_skills, tenant):
    # when
    plugin_publish(tenant=tenant)

    # then: a git host shows the commit as made when the newest skill changed
    epoch = int(git("--git-dir", str(bare), "log", "-1", "--format=%ct", "main").strip())
    newest = max(int(s.updated_at.timestamp()) for s in Skill.objects.filter(tenant=tenant))
    assert epoch == newest


def test_the_same_skills_give_the_same_commit_on_any_remote(remotes, bare, two_skills, tenant):
    # given the marketplace published to one remote
    first = plugin_publish(tenant=tenant)
    # when the tenant's remote becomes another, empty one
    bare_repository(remotes, "elsewhere.git")
    plugin_remote_configure(tenant=tenant, url=remotes.url("elsewhere.git"), token=None)
    second = plugin_publish(tenant=tenant)
    # then the commit there is byte for byte the same
    assert second.outcome == PluginOutcome.PUBLISHED
    assert second.commit == first.commit


def test_a_changed_and_a_removed_skill_are_listed(bare, two_skills, tenant):
    # given a published marketplace
    plugin_publish(tenant=tenant)
    # when one skill changes and the other is deleted
    skills_import(
        tenant=tenant,
        sources=[
            SkillSource(origin="prd", document=minimal_ir(version="1.1.0", instructions="New."))
        ],
    )
    Skill.objects.filter(tenant=tenant, skill_id="incident-postmortem").delete()
    pending = plugin_pending(tenant=tenant)
    result = plugin_publish(tenant=tenant)
    # then the page's pending list and the commit say so
    assert (pending.changed, pending.removed) == (("prd-review",), ("incident-postmortem",))
    assert (result.changes.changed, result.changes.removed) == (pending.changed, pending.removed)
    message = git("--git-dir", str(bare), "show", "-s", "--format=%B", "main")
    assert "Changed: prd-review" in message and "Removed: incident-postmortem" in message
    assert len(_log(bare)) == 2
    assert not plugin_pending(tenant=tenant).any


def test_dry_run_lists_the_change_and_pushes_nothing(bare, two_skills, tenant):
    # given an empty remote
    # when a dry run is asked for
    result = plugin_publish(tenant=tenant, dry_run=True)
    # then it says what would be added, and the remote has no commit
    assert result.outcome == PluginOutcome.DRY_RUN and result.would_commit
    assert result.changes.added == tuple(two_skills)
    assert "dry run: would commit and push" in result.lines()
    assert git("--git-dir", str(bare), "for-each-ref").strip() == ""


def test_the_token_is_sent_as_a_header_never_on_a_command_line(
    remotes, bare, two_skills, tenant, monkeypatch, caplog
):
    # given every git process Claresia starts is watched
    started = []
    real = subprocess.Popen

    def watch(args, **kwargs):
        started.append((list(args), kwargs.get("env") or {}))
        return real(args, **kwargs)

    monkeypatch.setattr(plugin_git.subprocess, "Popen", watch)
    # when the marketplace is published
    assert plugin_publish(tenant=tenant).ok
    # then the token is in no argument, only in git's environment, and reached the server
    assert started and not any(TOKEN in " ".join(args) for args, _ in started)
    assert any(TOKEN not in str(env) and "extraHeader" in str(env) for _, env in started)
    sent = [header for header in remotes.state.authorizations if header]
    assert sent and all(header.startswith("Basic ") for header in sent)
    assert TOKEN not in caplog.text
    assert TOKEN not in str(PluginMarketplace.objects.filter(tenant=tenant).values().get())


# ---- faults -------------------------------------------------------------------------------


def test_an_unreachable_remote_is_one_clear_line(remotes, two_skills, tenant):
    # given a remote on a port nobody listens on
    plugin_remote_configure(tenant=tenant, url="http://127.0.0.1:9/nobody.git", token=TOKEN)
    # when published
    result = plugin_publish(tenant=tenant)
    # then it failed, saying so in one line, recorded for the page
    assert result.outcome == PluginOutcome.FAILED
    assert "unreachable" in result.error and "\n" not in result.error
    assert PluginMarketplace.objects.get(tenant=tenant).last_error == result.error


def test_a_refused_token_is_said_and_never_echoed(remotes, bare, two_skills, tenant):
    # given a token the remote does not accept
    plugin_remote_configure(tenant=tenant, url=remotes.url("dainese.git"), token="wrong-token-9876")
    # when published
    result = plugin_publish(tenant=tenant)
    # then the refusal is named and the token is nowhere in it
    assert result.outcome == PluginOutcome.FAILED
    assert "refused the token" in result.error
    assert "wrong-token-9876" not in result.error
    assert _log_or_empty(bare) == []


def test_a_redirect_to_another_origin_is_refused_and_the_token_never_sent_there(
    remotes, bare, two_skills, tenant, tmp_path
):
    # given a remote that answers 302 to another origin, itself a working git server
    elsewhere = GitServer(tmp_path / "remotes", TOKEN)
    elsewhere.state.anonymous_reads = True
    try:
        remotes.state.redirect_to = f"http://localhost:{elsewhere.httpd.server_port}"

        # when published
        result = plugin_publish(tenant=tenant)

        # then the publish failed saying so, and the other origin never saw the token
        assert result.outcome == PluginOutcome.FAILED
        assert "redirect" in result.error and "\n" not in result.error
        assert not any(elsewhere.state.authorizations)
        assert _log_or_empty(bare) == []
    finally:
        elsewhere.stop()


def _log_or_empty(bare) -> list[str]:
    refs = git("--git-dir", str(bare), "for-each-ref").strip()
    return _log(bare) if refs else []


def test_a_hand_pushed_commit_is_kept_and_built_upon(
    bare, two_skills, tenant, tmp_path, monkeypatch
):
    # given a published marketplace
    plugin_publish(tenant=tenant)
    skills_import(
        tenant=tenant, sources=[SkillSource(origin="prd", document=minimal_ir(version="2.0.0"))]
    )
    # and someone pushes a file of theirs by hand between Claresia's fetch and its push
    real_push = plugin_git.TenantRepository.push
    pushes = []

    def push_after_someone(self, commit):
        if not pushes:
            hand = tmp_path / "hand"
            git("clone", "--quiet", str(bare), str(hand))
            (hand / "NOTES.md").write_text("ours, not Claresia's\n")
            git("add", "NOTES.md", cwd=hand)
            git("commit", "--quiet", "-m", "Add our notes", cwd=hand)
            git("push", "--quiet", "origin", "main", cwd=hand)
        pushes.append(commit)
        return real_push(self, commit)

    monkeypatch.setattr(plugin_git.TenantRepository, "push", push_after_someone)
    # when published
    result = plugin_publish(tenant=tenant)
    # then the first push was refused, and the second, rebuilt on top of theirs, went through
    assert result.outcome == PluginOutcome.PUBLISHED, result.error
    assert len(pushes) == 2 and pushes[1] == result.commit
    subjects = [line.split(" ", 1)[1] for line in _log(bare)]
    assert "Someone <someone@example.com> Add our notes" in subjects[1]
    tree = _clone(bare, tmp_path / "after")
    assert tree["NOTES.md"] == b"ours, not Claresia's\n"
    assert "Changed: prd-review" in git("--git-dir", str(bare), "show", "-s", "--format=%B", "main")


def test_a_push_dropped_midway_is_completed_by_the_next_publish(remotes, bare, two_skills, tenant):
    # given the connection drops while the push is sent
    remotes.state.drop_push = "before"
    # when published
    failed = plugin_publish(tenant=tenant)
    # then it says the push was interrupted, and nothing reached the remote
    assert failed.outcome == PluginOutcome.FAILED
    assert "interrupted" in failed.error and "next publish completes it" in failed.error
    assert _log_or_empty(bare) == []
    # when the next publish runs on a healthy connection
    remotes.state.drop_push = ""
    done = plugin_publish(tenant=tenant)
    # then it completes: the same commit, the error cleared
    assert done.outcome == PluginOutcome.PUBLISHED
    assert [line.split()[0] for line in _log(bare)] == [done.commit]
    assert PluginMarketplace.objects.get(tenant=tenant).last_error == ""


def test_a_push_whose_answer_was_lost_is_found_by_the_next_publish(
    remotes, bare, two_skills, tenant
):
    # given the remote takes the push but the connection drops before its answer
    remotes.state.drop_push = "after"
    failed = plugin_publish(tenant=tenant)
    assert failed.outcome == PluginOutcome.FAILED
    landed = _log(bare)[0].split()[0]
    # when the next publish runs
    remotes.state.drop_push = ""
    again = plugin_publish(tenant=tenant)
    # then it finds its commit there: nothing new is pushed, the state is complete
    assert again.outcome == PluginOutcome.UNCHANGED and again.commit == landed
    state = PluginMarketplace.objects.get(tenant=tenant)
    assert state.last_commit == landed and state.last_error == "" and state.last_published_at


def test_without_a_remote_the_publish_says_how_to_configure_one(two_skills, tenant):
    result = plugin_publish(tenant=tenant)
    assert result.outcome == PluginOutcome.FAILED
    assert "configure_plugin_remote" in result.error


# ---- commands -----------------------------------------------------------------------------


def test_publish_plugin_prints_the_commit_and_the_skills(bare, two_skills, tenant):
    out = io.StringIO()
    call_command("publish_plugin", "--tenant", "dainese", stdout=out)
    lines = out.getvalue().splitlines()
    assert (
        lines[0].startswith("committed ") and lines[1] == "added: incident-postmortem, prd-review"
    )
    out = io.StringIO()
    call_command("publish_plugin", "--tenant", "dainese", stdout=out)
    assert out.getvalue().startswith("unchanged")


def test_publish_plugin_fails_with_one_line_and_non_zero_exit(remotes, two_skills, tenant):
    plugin_remote_configure(tenant=tenant, url="http://127.0.0.1:9/nobody.git", token=TOKEN)
    with pytest.raises(CommandError) as error:
        call_command("publish_plugin", "--tenant", "dainese", stdout=io.StringIO())
    assert "unreachable" in str(error.value) and "\n" not in str(error.value)
    assert error.value.returncode != 0


def test_publish_plugin_dry_run_pushes_nothing(bare, two_skills, tenant):
    out = io.StringIO()
    call_command("publish_plugin", "--tenant", "dainese", "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[:2] == [
        "dry run: would commit and push",
        "added: incident-postmortem, prd-review",
    ]
    assert _log_or_empty(bare) == []
