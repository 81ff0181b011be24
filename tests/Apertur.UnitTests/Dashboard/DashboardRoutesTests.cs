using Apertur.Server.Dashboard;
using Shouldly;

namespace Apertur.UnitTests.Dashboard;

public sealed class DashboardRoutesTests
{
    [Theory]
    [InlineData("/dashboard/projects/0198a3f2-0000-7000-8000-000000000001/destinations")]
    [InlineData("/dashboard/projects/x/destinations?kind=dropbox")]
    [InlineData("/dashboard")]
    public void IsDashboardPath_PathInsideTheDashboard_True(string url) => DashboardRoutes.IsDashboardPath(url).ShouldBeTrue();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("https://evil.example/dashboard/")]
    [InlineData("//evil.example/dashboard/")]
    [InlineData("/dashboard//evil.example")]
    [InlineData("/\\evil.example/dashboard/")]
    [InlineData("/dashboard/\\\\evil.example")]
    [InlineData("/dashboardevil")]
    [InlineData("/dashboard/../api/v1/project")]
    [InlineData("/dashboard/%2E%2E/api")]
    [InlineData("/dashboard/x#y")]
    [InlineData("/dashboard/x\ny")]
    [InlineData("/dashboard/x y")]
    [InlineData("/api/v1/project")]
    [InlineData("javascript:alert(1)")]
    [InlineData("dashboard/projects")]
    public void IsDashboardPath_AnythingElse_False(string? url) => DashboardRoutes.IsDashboardPath(url).ShouldBeFalse();

    [Fact]
    public void WithOAuthOutcome_AddsTheOutcomeToTheQuery()
    {
        var id = Guid.Parse("0198a3f2-0000-7000-8000-000000000001");
        DashboardRoutes.WithOAuthOutcome("/dashboard/p", id, "error", "access denied")
            .ShouldBe($"/dashboard/p?oauth=error&destination={id}&oauth_error=access%20denied");
        DashboardRoutes.WithOAuthOutcome("/dashboard/p?kind=s3", id, "connected", null).ShouldBe($"/dashboard/p?kind=s3&oauth=connected&destination={id}");
    }
}
