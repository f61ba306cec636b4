using System.Text;
using System.Text.Json;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Fleet;
using ControlPlane.Silo.Security;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Board;

/// <summary>
/// The board's live feed as server-sent events, fed by the tiers' change streams (as WatchFleet is) and the alert
/// engine's event log (as WatchAlerts is). Events: <c>tier</c> (a <see cref="TierView"/> at a newer version),
/// <c>alerts</c> (the alert log moved on: re-read), <c>closed</c> (the token was revoked or expired). The page reads
/// it with fetch, so the token travels in the authorization header, never in a URL. Counted against the caller's
/// stream limit and cut on revocation like a gRPC watch.
/// </summary>
internal sealed class BoardEvents(
    TierChangeHub hub, BoardData data, StreamLimiter limiter, RevocableStreams revocable, IOptions<SecurityOptions> security, ILogger<BoardEvents> logger)
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public async Task RunAsync(HttpContext http, Principal principal, long generation, string env)
    {
        var tiers = await data.TiersAsync(env);
        var limit = security.Value.MaxStreamsPerPrincipal;
        if (!limiter.TryEnter(principal.LimitKey, limit))
        {
            throw new BoardProblem(StatusCodes.Status429TooManyRequests,
                $"{principal.Display} already has {limit} open streams on this silo (ControlPlane:Security:MaxStreamsPerPrincipal); close a board tab or a watch first.");
        }
        try
        {
            using var open = revocable.Open(principal, generation, http.RequestAborted);
            var ct = open?.Token ?? http.RequestAborted;
            await using var feed = await TierChangeFeed.OpenAsync(hub, env, tiers, logger, ct);
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            try
            {
                await StreamAsync(http.Response, env, tiers, feed, ct);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException && ct.IsCancellationRequested)
            {
                // The page went away, or the token stopped being valid (said below).
            }
            if (open?.Reason is { } reason && !http.RequestAborted.IsCancellationRequested)
            {
                logger.LogInformation("Board stream of {Principal} closed: {Reason}", principal.Display, reason);
                await WriteAsync(http.Response, "closed", new { reason = $"{reason}; sign in again." }, http.RequestAborted);
            }
        }
        finally
        {
            limiter.Exit(principal.LimitKey);
        }
    }

    /// <summary>Subscribe first, then snapshot (a change between the two is in one or the other), then follow.</summary>
    private async Task StreamAsync(HttpResponse response, string env, IReadOnlyList<string> tiers, TierChangeFeed feed, CancellationToken ct)
    {
        var sent = new Dictionary<string, long>(StringComparer.Ordinal);
        await ResyncAsync(response, env, tiers, sent, ct);
        var alerts = await data.AlertVersionAsync(env);
        await WriteAsync(response, "alerts", new { version = alerts }, ct);
        var lastResync = DateTime.UtcNow;
        var lastWrite = DateTime.UtcNow;
        var changes = feed.Changes;
        while (!ct.IsCancellationRequested)
        {
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                tick.CancelAfter(Tick);
                try
                {
                    if (!await changes.WaitAsync(tick.Token)) return;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // A quiet half second: time to look at the alert log.
                }
            }
            while (changes.TryTake(out var item))
            {
                if (item is WatchItem.Resync resync)
                {
                    // Changes were dropped while this page read slowly: the tier as it is now replaces them.
                    await ResyncAsync(response, env, [resync.Tier], sent, ct);
                    feed.Resynced();
                    continue;
                }
                var change = ((WatchItem.Change)item).Value;
                var name = change.Snapshot.Name;
                if (change.Version <= sent.GetValueOrDefault(name)) continue;
                await WriteAsync(response, "tier", BoardViews.Tier(change.Snapshot), ct);
                sent[name] = change.Version;
                lastWrite = DateTime.UtcNow;
            }
            var version = await data.AlertVersionAsync(env);
            if (version != alerts)
            {
                alerts = version;
                await WriteAsync(response, "alerts", new { version }, ct);
                lastWrite = DateTime.UtcNow;
            }
            if (DateTime.UtcNow - lastResync > Resync)
            {
                // A delta lost on the way (pub-sub state lost with a silo) shows as a newer version at the tier.
                await ResyncAsync(response, env, tiers, sent, ct);
                lastResync = DateTime.UtcNow;
            }
            if (DateTime.UtcNow - lastWrite > KeepAlive)
            {
                await response.Body.WriteAsync(": keep-alive\n\n"u8.ToArray(), ct);
                await response.Body.FlushAsync(ct);
                lastWrite = DateTime.UtcNow;
            }
        }
    }

    private async Task ResyncAsync(HttpResponse response, string env, IReadOnlyList<string> tiers, Dictionary<string, long> sent, CancellationToken ct)
    {
        foreach (var tier in tiers)
        {
            if (await data.SnapshotAsync(env, tier) is not { } snapshot || snapshot.Version <= sent.GetValueOrDefault(tier)) continue;
            await WriteAsync(response, "tier", BoardViews.Tier(snapshot), ct);
            sent[tier] = snapshot.Version;
        }
    }

    /// <summary>One event: its name and one line of JSON (JSON never holds a raw newline, so one data line suffices).</summary>
    private static async Task WriteAsync(HttpResponse response, string name, object payload, CancellationToken ct)
    {
        var text = $"event: {name}\ndata: {JsonSerializer.Serialize(payload, BoardEndpoints.Json)}\n\n";
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
        await response.Body.FlushAsync(ct);
    }
}
