using System.CommandLine;
using ControlPlane.Cli.Common;

namespace ControlPlane.Cli.Fleet;

/// <summary>Positional arguments of the fleet commands, validated at parse time so bad input exits 2.</summary>
internal static class FleetArguments
{
    public static Argument<string> Tier(string description)
    {
        var argument = new Argument<string>("TIER") { Description = description };
        argument.Validators.Add(result =>
        {
            if (Names.Check(result.GetValueOrDefault<string>(), "TIER") is { } error)
            {
                result.AddError(error);
            }
        });
        return argument;
    }

    public static Argument<string?> OptionalTier(string description)
    {
        var argument = new Argument<string?>("TIER") { Description = description, Arity = ArgumentArity.ZeroOrOne };
        argument.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && Names.Check(value, "TIER") is { } error)
            {
                result.AddError(error);
            }
        });
        return argument;
    }

    public static Argument<string> Replica()
    {
        var argument = new Argument<string>(ReplicaAddress.ArgumentName)
        {
            Description = "The replica, as tier/replica (e.g. oltp/oltp-1)",
        };
        argument.Validators.Add(result =>
        {
            if (!ReplicaAddress.TryParse(result.GetValueOrDefault<string>(), out _, out var error))
            {
                result.AddError(error!);
            }
        });
        return argument;
    }
}
