using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>What the gateway refuses, with which status and message, before anything is applied.</summary>
[Collection(ChangeFleetCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ChangeRequestTests(ChangeFleetFixture fleet)
{
    [Fact]
    public async Task The_author_cannot_approve_their_own_change_and_an_unapproved_change_cannot_roll_out()
    {
        var v = fleet.NextVersion();
        var change = await fleet.SubmitAsync("needs review", ChangeFleetFixture.File($"V{v}__review.sql", $"CREATE TABLE review_{v} (id bigint PRIMARY KEY);\n"));
        Assert.Equal(ChangePhase.Submitted, change.Phase);
        Assert.Equal("alice", change.Author);

        var own = await Assert.ThrowsAsync<RpcException>(() => fleet.Alice.ApproveChangeAsync(new ApproveChangeRequest { ChangeId = change.ChangeId }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, own.StatusCode);
        Assert.Contains("author", own.Status.Detail, StringComparison.Ordinal);

        var early = await Assert.ThrowsAsync<RpcException>(() => fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, early.StatusCode);
        Assert.Contains("0 of 1 required approval", early.Status.Detail, StringComparison.Ordinal);

        var approved = await fleet.Bob.ApproveChangeAsync(new ApproveChangeRequest { ChangeId = change.ChangeId });
        Assert.Equal(ChangePhase.Approved, approved.Phase);
        Assert.Equal("bob", Assert.Single(approved.Approvals).Principal);
        await using var sql = await fleet.OpenAsync();
        Assert.False(await ChangeCatalog.ScalarAsync<bool>(sql, "SELECT to_regclass($1) IS NOT NULL", $"{fleet.Targets[0]}.review_{v}"));
    }

    [Fact]
    public async Task A_set_with_malformed_sql_or_a_duplicate_version_is_refused_naming_the_file()
    {
        var v = fleet.NextVersion();
        var malformed = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.SubmitAsync("bad", ChangeFleetFixture.File($"V{v}__bad.sql", "CREATE TABLEE nope (id int);\n")));
        Assert.Equal(StatusCode.InvalidArgument, malformed.StatusCode);
        Assert.Contains($"V{v}__bad.sql", malformed.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("syntax error", malformed.Status.Detail, StringComparison.Ordinal);

        var duplicate = await Assert.ThrowsAsync<RpcException>(() => fleet.SubmitAsync("twice",
            ChangeFleetFixture.File($"V{v}__one.sql", "SELECT 1;\n"), ChangeFleetFixture.File($"V{v}__two.sql", "SELECT 2;\n")));
        Assert.Equal(StatusCode.InvalidArgument, duplicate.StatusCode);
        Assert.Contains($"version {v} is already defined", duplicate.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_tiers_and_changes_are_not_found_and_bad_arguments_are_named()
    {
        var tier = await Assert.ThrowsAsync<RpcException>(() => fleet.Alice.SubmitChangeAsync(new SubmitChangeRequest
        {
            Tier = "nosuch", Description = "x", Files = { ChangeFleetFixture.File("V1__x.sql", "SELECT 1;") },
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, tier.StatusCode);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => fleet.Admin.GetChangeAsync(new ChangeRequest { ChangeId = "no-such-change" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var badId = await Assert.ThrowsAsync<RpcException>(() => fleet.Admin.ResumeChangeAsync(new ChangeRequest { ChangeId = "Bad_Id" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        Assert.Contains("change_id", badId.Status.Detail, StringComparison.Ordinal);

        var batch = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = "no-such-change", BatchSize = 0 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, batch.StatusCode);
        Assert.Contains("batch_size 0", batch.Status.Detail, StringComparison.Ordinal);

        // Found by the gateway fuzz test: nanos beyond a second once reached the client as INTERNAL.
        var nanos = await Assert.ThrowsAsync<RpcException>(() => fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest
        {
            ChangeId = "no-such-change",
            LockTimeout = new Google.Protobuf.WellKnownTypes.Duration { Seconds = 0, Nanos = int.MaxValue },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, nanos.StatusCode);
        Assert.Contains("lock_timeout", nanos.Status.Detail, StringComparison.Ordinal);

        var noFiles = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.Alice.SubmitChangeAsync(new SubmitChangeRequest { Tier = ChangeFleetFixture.Tier, Description = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noFiles.StatusCode);
        Assert.Contains("files", noFiles.Status.Detail, StringComparison.Ordinal);
    }
}
