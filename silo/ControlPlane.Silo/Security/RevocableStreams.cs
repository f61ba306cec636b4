using System.Collections.Concurrent;

namespace ControlPlane.Silo.Security;

/// <summary>
/// The open server streams of bearer tokens on this silo, so that a watch ends when its token stops being valid:
/// revoked or deleted (learnt from the <see cref="TokenCache"/>'s invalidations, which the catalog's NOTIFY drives)
/// or expired (a timer at the expiry). A stream is cut by firing the cancellation token its handler sees
/// (<see cref="CutCallContext"/>); the interceptor then answers UNAUTHENTICATED with <see cref="OpenStream.Reason"/>.
/// <para>
/// An invalidation only says "this row changed", so the row is read again before anything is cut; when the whole
/// cache was dropped (the listener reconnected, it may have missed notices) every token with an open stream is
/// read again. A read that fails is retried every second while streams of the token stay open.
/// </para>
/// </summary>
internal sealed class RevocableStreams
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<OpenStream, byte>> _byToken = new(StringComparer.Ordinal);
    private readonly TokenStore _tokens;
    private readonly TokenCache _cache;
    private readonly TimeProvider _clock;
    private readonly ILogger<RevocableStreams> _logger;

    public RevocableStreams(TokenStore tokens, TokenCache cache, TimeProvider clock, ILogger<RevocableStreams> logger)
    {
        (_tokens, _cache, _clock, _logger) = (tokens, cache, clock, logger);
        cache.Invalidated += id =>
        {
            foreach (var token in id is null ? _byToken.Keys.ToArray() : [id])
            {
                if (HasStreams(token)) _ = RecheckAsync(token);
            }
        };
    }

    /// <summary>Take before authenticating a call; <see cref="Open"/> re-reads the token if an invalidation came since.</summary>
    public long Generation => _cache.Generation;

    /// <summary>Registers a stream of <paramref name="principal"/>; null for principals that are not tokens (nothing to revoke).</summary>
    public OpenStream? Open(Principal principal, long generation, CancellationToken callToken)
    {
        if (principal.Kind != Principal.TokenKind) return null;
        var stream = new OpenStream(this, principal.TokenId, callToken);
        _byToken.GetOrAdd(principal.TokenId, _ => new ConcurrentDictionary<OpenStream, byte>())[stream] = 0;
        if (principal.ExpiresAt is { } expires)
        {
            var left = expires - _clock.GetUtcNow();
            var reason = $"token '{principal.Name}' ({principal.TokenId}) expired at {expires:u}";
            if (left <= TimeSpan.Zero) stream.Cut(reason);
            else stream.CutAfter(left, reason);
        }
        // The token may have been revoked between its check and this registration: that invalidation found no stream.
        if (_cache.Generation != generation) _ = RecheckAsync(principal.TokenId);
        return stream;
    }

    private bool HasStreams(string tokenId) => _byToken.TryGetValue(tokenId, out var streams) && !streams.IsEmpty;

    private void Close(OpenStream stream)
    {
        if (_byToken.TryGetValue(stream.TokenId, out var streams)) streams.TryRemove(stream, out _);
    }

    private async Task RecheckAsync(string tokenId)
    {
        var failures = 0;
        while (HasStreams(tokenId))
        {
            try
            {
                var record = await _tokens.FindAsync(tokenId, CancellationToken.None);
                var reason = record switch
                {
                    null => $"token {tokenId} was deleted",
                    { RevokedAt: { } at } => $"token '{record.Name}' ({tokenId}) was revoked at {at:u}",
                    { ExpiresAt: { } at } when at <= _clock.GetUtcNow() => $"token '{record.Name}' ({tokenId}) expired at {at:u}",
                    _ => null,
                };
                if (reason is not null) CutAll(tokenId, reason);
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                if (failures++ == 0) _logger.LogWarning("Cannot re-check token {TokenId} of open streams: {Error}; retrying every second", tokenId, Catalog.CatalogErrors.Clean(ex.Message));
                await Task.Delay(Retry);
            }
        }
    }

    private void CutAll(string tokenId, string reason)
    {
        if (!_byToken.TryGetValue(tokenId, out var streams)) return;
        var cut = 0;
        foreach (var stream in streams.Keys)
        {
            stream.Cut(reason);
            cut++;
        }
        if (cut > 0) _logger.LogInformation("Closed {Count} open stream(s): {Reason}", cut, reason);
    }

    /// <summary>One open stream: the token its handler sees, and why it was cut (null while it is not).</summary>
    internal sealed class OpenStream : IDisposable
    {
        private readonly RevocableStreams _owner;
        private readonly CancellationTokenSource _cut;
        private static readonly TimeSpan MaxTimer = TimeSpan.FromDays(49);
        private string? _reason;
        private Timer? _expiry;

        public OpenStream(RevocableStreams owner, string tokenId, CancellationToken callToken)
        {
            (_owner, TokenId) = (owner, tokenId);
            _cut = CancellationTokenSource.CreateLinkedTokenSource(callToken);
        }

        public string TokenId { get; }

        public CancellationToken Token => _cut.Token;

        /// <summary>Why the stream was cut (the UNAUTHENTICATED message), or null.</summary>
        public string? Reason => Volatile.Read(ref _reason);

        public void Cut(string reason)
        {
            if (Interlocked.CompareExchange(ref _reason, reason, null) is not null) return;
            try
            {
                _cut.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended on its own meanwhile.
            }
        }

        /// <summary>Cuts at the token's expiry; an expiry beyond what a timer holds (~49 days) is left to the next re-check.</summary>
        public void CutAfter(TimeSpan delay, string reason)
        {
            if (delay < MaxTimer) _expiry = new Timer(_ => Cut(reason), null, delay, Timeout.InfiniteTimeSpan);
        }

        public void Dispose()
        {
            _owner.Close(this);
            _expiry?.Dispose();
            _cut.Dispose();
        }
    }
}
