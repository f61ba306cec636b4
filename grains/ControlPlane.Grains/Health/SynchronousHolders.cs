namespace ControlPlane.Grains.Health;

/// <summary>
/// Which standbys hold every commit the primary acknowledged, as its replica grain remembers them across probes
/// (the synchronous-mode election reads it exactly when the primary stops answering). Pure.
///
/// <para>A probe of a writable primary that lists no synchronous standby does not mean the earlier ones lost that
/// property. A primary whose postmaster was just SIGKILLed still answers a probe on an open pooled connection for a
/// moment after its WAL senders exited; a standby reconnecting, or a set the tier has just changed, shows no
/// <c>sync</c>/<c>quorum</c> row for a probe or two. In all of these, commits wait for a confirmation (the setting
/// still names standbys), so nothing was acknowledged since the last set was seen: that set still holds every
/// acknowledged commit and is kept. Only an empty <c>synchronous_standby_names</c> (asynchronous: nothing is promised)
/// clears it, and a new non-empty set replaces it.</para>
/// </summary>
public static class SynchronousHolders
{
    public static IReadOnlyList<string> Next(IReadOnlyList<string> remembered, IReadOnlyList<string> confirmedNow, string synchronousStandbyNames)
    {
        ArgumentNullException.ThrowIfNull(remembered);
        ArgumentNullException.ThrowIfNull(confirmedNow);
        if (string.IsNullOrWhiteSpace(synchronousStandbyNames)) return [];
        return confirmedNow.Count > 0 ? confirmedNow : remembered;
    }
}
