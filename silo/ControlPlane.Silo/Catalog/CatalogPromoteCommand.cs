using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// <c>ControlPlane.Silo catalog-promote --catalog-dir DIR --accept-data-loss</c>: promotes the catalog standby by a
/// person's decision when the automatic promotion refuses because the standby may lack acknowledged writes (the
/// catalog's synchronous replication was degraded when its primary was lost: docs/catalog.md, "When the standby is
/// lost"). The same steps as <see cref="CatalogPromoter"/>, under the manifest's lock and persisted first, with the
/// loss accepted in so many words; it still refuses while the primary answers, so it can never make two primaries.
/// </summary>
internal static class CatalogPromoteCommand
{
    public const string Verb = "catalog-promote";

    public const string Usage = """
        Promotes the catalog standby by hand when the silos refuse to, because it may lack writes that the primary
        acknowledged while it committed without it (docs/catalog.md, "When the standby is lost"). Run it on the
        standby's machine; the silos may keep running.

        Usage: dotnet run --project silo/ControlPlane.Silo -- catalog-promote --catalog-dir DIR --accept-data-loss

          --catalog-dir DIR    the data directory of the silo that provisioned the catalog (where catalog.json is)
          --accept-data-loss   required: catalog writes acknowledged while the replication was degraded may be lost

        Refused (exit 2, nothing changed) while the catalog primary answers (3 probes of up to 5 s) or its postmaster
        runs on this machine, when there is no standby or it is
        already the primary, or when it does not run as a standby. Exit codes: 0 promoted, 1 the promotion failed
        after it was recorded (run it again), 2 bad arguments or refused.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (args.Contains("--help")) { await output.WriteLineAsync(Usage); return 0; }
        string? directory = null;
        var accept = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--catalog-dir" when i + 1 < args.Length:
                    directory = args[++i];
                    break;
                case "--accept-data-loss":
                    accept = true;
                    break;
                default:
                    return await FailAsync(error, $"unexpected argument '{args[i]}'; see {Verb} --help.");
            }
        }
        if (string.IsNullOrWhiteSpace(directory)) return await FailAsync(error, $"--catalog-dir DIR is required; see {Verb} --help.");
        var root = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(root, CatalogInstance.ManifestFile);
        var superuser = Path.Combine(root, "secrets", "catalog.superuser");
        if (!File.Exists(manifestPath) || !File.Exists(superuser))
            return await FailAsync(error, $"--catalog-dir '{root}' holds no embedded catalog (expected {CatalogInstance.ManifestFile} and secrets/catalog.superuser there).");

        using (await CatalogManifest.LockAsync(manifestPath, ct))
        {
            var manifest = (await CatalogManifest.ReadAsync(manifestPath, ct))!;
            if (manifest.Standbys?.FirstOrDefault(s => s.Name == CatalogStandby.Name) is not { } standby)
                return await FailAsync(error, $"the catalog of '{root}' has no standby ({CatalogInstance.ManifestFile} lists none); there is nothing to promote.");
            if (manifest.PrimaryName == CatalogStandby.Name)
                return await FailAsync(error, $"{CatalogStandby.Name} is already the catalog primary (promotion {manifest.Promotions}); nothing changed.");
            var primary = manifest.Members(Path.Combine(root, "catalog", "data")).First(m => m.Name == manifest.PrimaryName);
            if (await PrimaryLivesAsync(primary, superuser, ct) is { } lives)
                return await FailAsync(error, $"the catalog primary {primary.Host}:{primary.Port} {lives}; a promotion now would make two primaries. Nothing changed.");
            var driver = new LocalInstanceDriver(new LocalInstanceOptions("catalog", CatalogStandby.Name, standby.DataDirectory, standby.Port, superuser, null), NullLogger.Instance);
            if (await InRecoveryAsync(driver.Endpoint, TimeSpan.FromSeconds(2), ct) is not true)
                return await FailAsync(error, $"the catalog standby {standby.Host}:{standby.Port} does not run as a standby (start its silo first); nothing changed.");
            var degraded = manifest.SynchronousDegradedSince is { } since
                ? $"the replication was degraded since {since:u} ({manifest.SynchronousDegradedReason})"
                : manifest.Asynchronous ? "the standby is asynchronous" : "the replication was synchronous";
            if (!accept)
            {
                return await FailAsync(error,
                    $"{degraded}: writes the primary acknowledged without the standby may be lost by this promotion. Repeat with --accept-data-loss to promote anyway, or bring the primary back (docs/catalog.md). Nothing changed.");
            }

            var decided = await CatalogManifest.UpdateLockedAsync(manifestPath, m => m with
            {
                Primary = CatalogStandby.Name,
                Promotions = m.Promotions + 1,
                SynchronousDegradedSince = m.Asynchronous ? null : DateTimeOffset.UtcNow,
                SynchronousDegradedReason = m.Asynchronous ? null
                    : $"promotion {m.Promotions + 1} forced by {Environment.UserName} with --accept-data-loss ({degraded}); {CatalogInstance.PrimaryName} has not rejoined as a standby yet",
            }, ct);
            await output.WriteLineAsync($"Recorded: {CatalogStandby.Name} is the catalog primary (promotion {decided.Promotions}, forced; {degraded}).");
            try
            {
                await CatalogStandby.PromoteAsync(driver, root, NullLogger.Instance, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await error.WriteLineAsync($"error: the promotion is recorded but {CatalogStandby.Name} was not promoted: {CatalogErrors.Clean(ex.Message)}. Run {Verb} again.");
                return 1;
            }
        }
        await output.WriteLineAsync($"Promoted {CatalogStandby.Name}: the silos' next catalog connections find it; the old primary is rewound into its standby when its silo starts again.");
        return 0;
    }

    /// <summary>
    /// Why the primary may still live, or null when it is gone: a person's promotion has no majority behind it, so one
    /// slow answer is not taken for a death. Its postmaster running on this machine, or an answer to any of
    /// <see cref="PrimaryProbes"/> probes of up to <see cref="PrimaryProbeTimeout"/> each, refuses the promotion.
    /// </summary>
    private static async Task<string?> PrimaryLivesAsync(CatalogMember primary, string superuser, CancellationToken ct)
    {
        if (primary.DataDirectory.Length > 0)
        {
            var local = new LocalInstanceDriver(new LocalInstanceOptions("catalog", primary.Name, primary.DataDirectory, primary.Port, superuser, null), NullLogger.Instance);
            if (local.PostmasterExists()) return $"has a running postmaster on this machine (pid {local.PostmasterPid()}, {primary.DataDirectory})";
        }
        for (var probe = 0; probe < PrimaryProbes; probe++)
        {
            if (await InRecoveryAsync(primary.Endpoint(superuser), PrimaryProbeTimeout, ct) is not null) return "answers";
        }
        return null;
    }

    private const int PrimaryProbes = 3;
    private static readonly TimeSpan PrimaryProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>pg_is_in_recovery() of one instance, or null when it does not answer within <paramref name="within"/>.</summary>
    internal static async Task<bool?> InRecoveryAsync(ReplicaEndpoint endpoint, TimeSpan within, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(within);
        try
        {
            await using var source = InspectorDataSource.Create(endpoint, "controlplane-catalog-promoter", within);
            await using var connection = await source.OpenConnectionAsync(timeout.Token);
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            return (bool)(await command.ExecuteScalarAsync(timeout.Token))!;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"error: {message}");
        return 2;
    }
}
