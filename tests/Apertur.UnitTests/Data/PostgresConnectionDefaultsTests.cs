using Apertur.Server.Data;
using Npgsql;
using Shouldly;

namespace Apertur.UnitTests.Data;

public sealed class PostgresConnectionDefaultsTests
{
    [Fact]
    public void Apply_WithoutMaxAutoPrepare_TurnsPreparedStatementsOn()
    {
        var applied = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply("Host=db;Database=apertur;Username=u;Password=p"));
        applied.MaxAutoPrepare.ShouldBe(PostgresConnectionDefaults.MaxAutoPrepare);
        applied.Host.ShouldBe("db");
        applied.Database.ShouldBe("apertur");
        applied.Password.ShouldBe("p");
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=10", 10)]
    [InlineData("Host=db;max auto prepare=0", 0)]
    public void Apply_KeepsTheOperatorsChoice(string connectionString, int expected) =>
        new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply(connectionString)).MaxAutoPrepare.ShouldBe(expected);
}
