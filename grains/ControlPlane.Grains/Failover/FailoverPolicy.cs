using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>Why an election is held: a switchover waits for its target to catch up, so lag does not disqualify.</summary>
public enum ElectionPurpose
{
    Failover,
    Switchover,
}

/// <summary>
/// Detection and election, as pure functions of what the tier knows. The tier grain gathers the facts, asks here,
/// persists the answer with a new term, and only then acts.
///
/// <para><b>Detection</b> reads three signals of the primary and one of its standbys:</para>
/// <list type="bullet">
/// <item>the pooled probe (is the server working?): <see cref="FailoverSettings.FailureThreshold"/> consecutive
/// failures declare it failed;</item>
/// <item>the fresh-connection check (can a new client get in?): as many consecutive checks that open no session
/// declare it failed too, <b>even while the pooled probe answers</b>: a server that takes no new session is dead to
/// every client that is not already connected (a frozen postmaster, a full listen backlog);</item>
/// <item>the host-local driver (is the postmaster process alive?), and the standbys' WAL receivers (does the
/// primary still send WAL?).</item>
/// </list>
///
/// <para><b>Refusals that are not death.</b> "Too many clients" (53300) and refused credentials come from a live
/// server and would come from any new primary just the same (the clients follow it; the credentials are ours):
/// they raise an alert (<see cref="FailoverVerdict.SessionsRefused"/>) and never count toward a failover.</para>
///
/// <para><b>Two situations look like a dead primary but are not acted on</b>, because the control plane's own view
/// is the likelier fault: every replica is unreachable at once (we are cut off), or a standby still streams WAL from
/// the primary while we cannot reach it at all (the primary lives; only our path to it is broken). The streaming
/// veto holds only while the failure could be our path or mere load: when the pooled probe answers while no new
/// session opens, or the server answers a new connection with a refusal or an error, the path demonstrably works and
/// the fault is the server's. A walsender streaming from a postmaster that accepts no connection is an existing
/// session like any other: the standbys are its only clients left, and they cannot write. So "cannot open a session
/// while the pooled sessions answer" outranks "still streams". A session that merely times out while the pooled
/// probe fails too is not enough: a CPU-starved host looks exactly like that, and its standbys still stream.</para>
///
/// <para><b>Failure modes of a server that still answers</b> (docs/failover.md#failure-modes): writes failing for a
/// full disk (<see cref="DiskFullPolicy"/>) and a crash loop (<see cref="CrashLoopPolicy"/>) fail the primary even
/// while its probes answer, and, being the server's own fault, are not vetoed by streaming standbys.</para>
///
/// <para><b>Certain death skips the window.</b> When the primary's port refuses the connection (not a timeout),
/// the host-local driver finds no postmaster process, and every standby that answers has lost its WAL sender, no
/// reading of the facts leaves the primary alive: it is failed at its first failed probe. A timeout (a hang) is
/// never certain and keeps the full window, so short freezes still cause no failover.</para>
///
/// <para><b>Election</b> picks, among standbys that answer, are in recovery, open new sessions, have a priority above
/// zero (and, in synchronous mode, were synchronous), the one with the most WAL; ties go to the higher priority, then
/// the lower name so the answer is deterministic. A candidate further behind the primary's last known position than
/// <see cref="FailoverSettings.MaxLagOnFailoverBytes"/> is refused unless an operator accepts data loss, and so is
/// (by a failover, never a switchover, which waits for the replay) a standby whose replay is further behind than
/// <see cref="FailoverSettings.MaxLagOnFailoverSeconds"/>.</para>
/// </summary>
public static class FailoverPolicy
{
    public static FailoverDecision Decide(FailoverView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var primary = view.Replicas.FirstOrDefault(r => r.Name == view.Primary);
        if (primary is null)
        {
            return new FailoverDecision(FailoverVerdict.NoCandidate, $"primary '{view.Primary}' of term {view.Term} is not a replica of the tier", null, []);
        }
        var threshold = view.Settings.FailureThreshold;
        var noSessions = primary.Fresh && primary.SessionFailures >= threshold;
        // Failure modes a live, answering server shows: writes failing for a full disk, and a crash loop.
        var diskFull = DiskFullPolicy.PrimaryEvidence(primary, threshold);
        var crashLoop = CrashLoopPolicy.PrimaryEvidence(primary, view.Settings);
        if (primary.Answering && !primary.InRecovery && !noSessions && diskFull is null && crashLoop is null)
        {
            return RefusesSessions(primary)
                ?? new FailoverDecision(FailoverVerdict.PrimaryHealthy, "primary answers", null, []);
        }

        var evidence = new List<string>();
        // Whether the fault is demonstrably the server's, not the path between the control plane and it.
        var serverSide = false;
        if (primary.Answering && primary.InRecovery)
        {
            evidence.Add($"primary {primary.Name} answers but is in recovery");
            serverSide = true;
        }
        else if (noSessions)
        {
            evidence.Add($"primary {primary.Name} opened no new session in {primary.SessionFailures} consecutive checks (threshold {threshold}): {Describe(primary.Session)}"
                + (primary.Answering ? ", while its pooled sessions still answer" : ""));
            // Only a pooled probe that answers proves the path and the server's life: a slow session on a loaded
            // host also times out after the TCP connect, and must not outrank streaming standbys.
            serverSide = primary.Answering || primary.Session is SessionState.Refused or SessionState.Rejected;
        }
        else if (diskFull is not null || crashLoop is not null)
        {
            // The server's own fault by definition: its standbys may well still stream from it.
            evidence.AddRange(diskFull ?? []);
            evidence.AddRange(crashLoop ?? []);
            serverSide = true;
        }
        else if (RefusesSessions(primary) is { } refusal)
        {
            return refusal;
        }
        else if (CertainDeath(primary, view) is { } death)
        {
            evidence.AddRange(death);
            serverSide = true;
        }
        else if (!primary.Fresh || primary.ConsecutiveFailures < threshold)
        {
            return new FailoverDecision(FailoverVerdict.Suspect,
                primary.Fresh
                    ? $"primary {primary.Name} missed {primary.ConsecutiveFailures} of {threshold} probes"
                    : $"no fresh probe of primary {primary.Name}",
                null, []);
        }
        else
        {
            evidence.Add($"primary {primary.Name} failed {primary.ConsecutiveFailures} consecutive probes (threshold {threshold})");
            serverSide = primary.Session is SessionState.Refused or SessionState.Rejected;
            if (serverSide) evidence.Add($"its host answers but the server takes no session: {Describe(primary.Session)}");
        }

        // Whatever the rule that failed it, a full disk is named: it is the likely cause of a PANIC or a failed start.
        if (diskFull is null && DiskFullPolicy.Note(primary, view.Settings) is { } full) evidence.Add(full);

        var others = view.Replicas.Where(r => r.Name != primary.Name).ToList();
        if (others.Count > 0 && others.All(r => !r.Answering))
        {
            evidence.Add("no other replica answers either");
            return new FailoverDecision(FailoverVerdict.Blind,
                "every replica of the tier is unreachable at once: the control plane is probably cut off; not failing over", null, evidence);
        }
        var streaming = others.Where(r => r.Answering && r.StreamingFromPrimary).Select(r => r.Name).ToList();
        if (streaming.Count > 0)
        {
            evidence.Add($"{string.Join(", ", streaming)} still streaming WAL from {primary.Name}");
            if (!serverSide)
            {
                return new FailoverDecision(FailoverVerdict.PrimaryAliveToStandbys,
                    $"standbys still stream from {primary.Name}: it is alive and only unreachable from the control plane; not failing over", null, evidence);
            }
            evidence.Add(diskFull is not null || crashLoop is not null
                ? "streaming does not veto: the fault is the server's own (" + (diskFull is not null ? "its disk is full" : "it keeps crashing") + "), not the path to it"
                : "streaming does not veto: the primary's host answers, the server itself takes no new session");
        }
        // Unreachable is a view from somewhere: other hosts' silos must agree (a fault of the server itself is not).
        if (!serverSide && view.Vantage is { Confirmed: false } vantage)
        {
            evidence.Add(vantage.Reason);
            return new FailoverDecision(FailoverVerdict.Unconfirmed,
                $"{primary.Name} is unreachable from the tier but most vantage points have not confirmed it; not failing over", null, evidence);
        }
        if (!serverSide && view.Vantage is { Confirmed: true, Reason.Length: > 0 } confirmed) evidence.Add(confirmed.Reason);
        if (view.Paused || !view.Settings.AutoFailover)
        {
            return new FailoverDecision(FailoverVerdict.Suspended,
                view.Paused ? "primary failed but the tier is paused" : "primary failed but automatic failover is off", null, evidence);
        }

        var election = Elect(view, target: null, allowDataLoss: false, ElectionPurpose.Failover);
        evidence.AddRange(election.Evidence);
        return election.Candidate is null
            ? new FailoverDecision(FailoverVerdict.NoCandidate, election.Reason, null, evidence)
            : new FailoverDecision(FailoverVerdict.Promote, election.Reason, election.Candidate, evidence);
    }

    /// <summary>
    /// The evidence that the primary is certainly dead, or null: its port refused the last fresh connection, the
    /// host-local driver found no postmaster, and every standby that answers has lost its WAL sender (at least one
    /// answers, so this is not our own blindness).
    /// </summary>
    public static IReadOnlyList<string>? CertainDeath(ReplicaFacts primary, FailoverView view)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(view);
        if (primary.Reachable || !primary.Fresh || primary.ConsecutiveFailures < 1) return null;
        if (primary.Session != SessionState.Refused || primary.PostmasterAlive != false) return null;
        var standbys = view.Replicas.Where(r => r.Name != primary.Name && r.Answering && r.InRecovery).ToList();
        if (standbys.Count == 0 || standbys.Any(r => r.StreamingFromPrimary)) return null;
        return
        [
            $"primary {primary.Name} refuses connections on its port and its host finds no postmaster process",
            $"{string.Join(", ", standbys.Select(r => r.Name))} lost their WAL sender",
            "certain death: not waiting for the probe window",
        ];
    }

    /// <summary>An alert when the primary's last fresh connection was refused by a live server for a reason a new
    /// primary would share; null otherwise.</summary>
    private static FailoverDecision? RefusesSessions(ReplicaFacts primary) => primary.Session switch
    {
        SessionState.TooManyClients => new FailoverDecision(FailoverVerdict.SessionsRefused,
            $"pool pressure: primary {primary.Name} refuses new sessions with too many clients (53300); a new primary would drown too; not failing over",
            null, [$"primary {primary.Name}: {Describe(primary.Session)}", primary.Reachable ? "its pooled sessions still answer" : "its pooled probe fails too"]),
        SessionState.AuthenticationFailed => new FailoverDecision(FailoverVerdict.SessionsRefused,
            $"primary {primary.Name} refuses the control plane's credentials (28P01/28000); check the password files; not failing over",
            null, [$"primary {primary.Name}: {Describe(primary.Session)}"]),
        _ => null,
    };

    private static string Describe(SessionState outcome) => outcome switch
    {
        SessionState.SessionTimedOut => "the port accepts TCP but no session comes back",
        SessionState.ConnectTimedOut => "no TCP answer",
        SessionState.Refused => "connection refused",
        SessionState.TooManyClients => "too many clients (53300)",
        SessionState.AuthenticationFailed => "authentication refused",
        SessionState.Rejected => "the server rejects new sessions",
        SessionState.Failed => "the connection breaks",
        SessionState.Opened => "sessions open",
        _ => "not checked",
    };

    public static Election Elect(FailoverView view, string? target, bool allowDataLoss, ElectionPurpose purpose)
    {
        ArgumentNullException.ThrowIfNull(view);
        var settings = view.Settings;
        var evidence = new List<string>();
        var standbys = view.Replicas.Where(r => r.Name != view.Primary).ToList();
        var eligible = new List<ReplicaFacts>();
        foreach (var r in standbys)
        {
            var why = Ineligibility(r, settings, allowDataLoss, purpose);
            if (why is null) eligible.Add(r);
            else evidence.Add($"{r.Name} not eligible: {why}");
        }
        var best = eligible
            .OrderByDescending(r => r.Position)
            .ThenByDescending(r => r.Priority)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .FirstOrDefault();

        ReplicaFacts chosen;
        if (target is not null)
        {
            var t = standbys.FirstOrDefault(r => r.Name == target);
            if (t is null)
            {
                return new Election(null, target == view.Primary
                    ? $"{target} is already the primary"
                    : $"{target} is not a standby of the tier", evidence);
            }
            if (Ineligibility(t, settings, allowDataLoss, purpose) is { } why) return new Election(null, $"{target} cannot be promoted: {why}", evidence);
            if (purpose == ElectionPurpose.Failover && best is not null && t.Position < best.Position && !allowDataLoss)
            {
                return new Election(null,
                    $"{target} is {best.Position - t.Position} bytes behind {best.Name}; promote {best.Name} or allow data loss", evidence);
            }
            chosen = t;
        }
        else if (best is null)
        {
            return new Election(null, standbys.Count == 0 ? "the tier has no standby" : "no standby is eligible", evidence);
        }
        else
        {
            chosen = best;
        }

        evidence.Add($"{chosen.Name} has WAL up to {chosen.Position} with priority {chosen.Priority}");
        if (purpose == ElectionPurpose.Failover && view.PrimaryLastLsn is { } last && last > chosen.Position)
        {
            var lag = (long)Math.Min(last - chosen.Position, long.MaxValue);
            evidence.Add($"{chosen.Name} is {lag} bytes behind the primary's last known position");
            if (lag > settings.MaxLagOnFailoverBytes && !allowDataLoss)
            {
                return new Election(null,
                    $"{chosen.Name} lags {lag} bytes, more than max_lag_on_failover {settings.MaxLagOnFailoverBytes}; an operator may force it with allow_data_loss",
                    evidence);
            }
        }
        return new Election(chosen.Name, $"promote {chosen.Name}", evidence);
    }

    private static string? Ineligibility(ReplicaFacts r, FailoverSettings settings, bool allowDataLoss, ElectionPurpose purpose)
    {
        // First, and not even with allow_data_loss: its data stops at a gap in the WAL, and what it needs is a
        // rebuild whatever else is wrong with it right now.
        if (r.Broken is { } broken) return broken;
        // Never either: a standby with no room for WAL, or one that keeps crashing, would fail as the primary did.
        if (DiskFullPolicy.Ineligibility(r, settings) is { } full) return full;
        if (CrashLoopPolicy.Ineligibility(r, settings) is { } looping) return looping;
        if (!r.Reachable) return "unreachable";
        if (!r.Fresh) return "no fresh probe";
        if (!r.InRecovery) return "not in recovery";
        if (r.Priority <= 0) return "priority 0 (never promoted)";
        if (SessionStates.IsCannotOpen(r.Session)) return $"opens no new session ({Describe(r.Session)})";
        // A switchover waits for its target to replay everything, so only a failover refuses a lagging replay.
        if (purpose == ElectionPurpose.Failover && !allowDataLoss && r.ReplayLagSeconds is { } lag && lag > settings.MaxLagOnFailoverSeconds)
        {
            return $"its replay is {lag:0.#} s behind, more than max_lag_on_failover_seconds {settings.MaxLagOnFailoverSeconds:0.#}; an operator may force it with allow_data_loss";
        }
        if (settings.SynchronousMode != SynchronousMode.Off && !r.LastKnownSynchronous && !allowDataLoss) return "not a synchronous standby";
        return null;
    }
}
