using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

public sealed class SessionStateTests
{
    [Fact]
    public void Every_session_outcome_of_the_postgres_layer_has_the_same_name_and_value_in_grain_state()
    {
        foreach (var outcome in Enum.GetValues<SessionOutcome>())
        {
            Assert.Equal(outcome.ToString(), SessionStates.From(outcome).ToString());
        }
        Assert.Equal(Enum.GetValues<SessionOutcome>().Length, Enum.GetValues<SessionState>().Length);
    }

    [Fact]
    public void Cannot_open_means_the_same_for_the_state_as_for_the_check()
    {
        foreach (var outcome in Enum.GetValues<SessionOutcome>())
        {
            Assert.Equal(SessionCheck.IsCannotOpen(outcome), SessionStates.IsCannotOpen(SessionStates.From(outcome)));
        }
    }
}
