using System.CommandLine;
using ControlPlane.Cli.Common;

namespace ControlPlane.Cli.Pools;

/// <summary>Positional arguments of the pool commands, validated at parse time so bad input exits 2.</summary>
internal static class PoolArguments
{
    public static Argument<string> Name(string name, string description)
    {
        var argument = new Argument<string>(name) { Description = description };
        argument.Validators.Add(r => { if (Names.Check(r.GetValueOrDefault<string>(), name) is { } error) r.AddError(error); });
        return argument;
    }

    public static Argument<string> LeaseId()
    {
        var argument = new Argument<string>("LEASE_ID") { Description = "As acquire printed it: TIER.TENANT.N, e.g. oltp.acme.3" };
        argument.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            var parts = value?.Split('.') ?? [];
            if (parts.Length != 3 || !Names.IsValid(parts[0]) || !Names.IsValid(parts[1]) || !parts[2].All(char.IsAsciiDigit) || parts[2].Length == 0)
                r.AddError($"LEASE_ID: '{value}' is not a lease id; expected TIER.TENANT.N as 'cpctl lease acquire' printed it, e.g. oltp.acme.3");
        });
        return argument;
    }

    /// <summary>The tenant inside a (validated) lease id; the request names it so tenant-scoped tokens work.</summary>
    public static string TenantOf(string leaseId) => leaseId.Split('.')[1];
}
