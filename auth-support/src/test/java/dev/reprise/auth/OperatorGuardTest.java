package dev.reprise.auth;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.container.ResourceInfo;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/** Which resources the operator guard keeps to operators: decided on the matched resource, never on the path as sent. */
class OperatorGuardTest {

    @Path("/api/v1/admin/caches")
    static class CacheReport {
        @GET
        public String report() {
            return "";
        }
    }

    @Path("api/v1//admin")
    static class AdminRoot {
        @GET
        @Path("things")
        public String things() {
            return "";
        }
    }

    @Path("/api/v1/images")
    static class Images {
        @GET
        public String list() {
            return "";
        }

        @POST
        @Path("/prune")
        @OperatorOnly
        public String prune() {
            return "";
        }
    }

    @Path("/api/v1/administrators")
    static class LookAlike {
        @GET
        public String list() {
            return "";
        }
    }

    @OperatorOnly
    @Path("/api/v1/store")
    static class WholeStore {
        @POST
        public String collect() {
            return "";
        }
    }

    @Test
    void resourcesUnderTheAdminPathAndMarkedMethodsAreGuarded() throws Exception {
        assertThat(OperatorGuard.guards(info(CacheReport.class, "report"))).isTrue();
        assertThat(OperatorGuard.guards(info(AdminRoot.class, "things"))).as("any slashes").isTrue();
        assertThat(OperatorGuard.guards(info(Images.class, "prune"))).isTrue();
        assertThat(OperatorGuard.guards(info(WholeStore.class, "collect"))).isTrue();
        assertThat(OperatorGuard.guards(info(Images.class, "list"))).isFalse();
        assertThat(OperatorGuard.guards(info(LookAlike.class, "list"))).isFalse();
        assertThat(OperatorGuard.guards(null)).as("nothing matched").isFalse();
    }

    @Test
    void adminPathsAreRecognisedHoweverWritten() {
        assertThat(OperatorGuard.isAdminPath("/api/v1/admin")).isTrue();
        assertThat(OperatorGuard.isAdminPath("api/v1/admin/caches")).isTrue();
        assertThat(OperatorGuard.isAdminPath("//api//v1/admin//caches/")).isTrue();
        assertThat(OperatorGuard.isAdminPath("/api/v1/adminx")).isFalse();
        assertThat(OperatorGuard.isAdminPath("/api/v1/artifacts")).isFalse();
    }

    private static ResourceInfo info(Class<?> type, String name) throws NoSuchMethodException {
        Method method = type.getMethod(name);
        return new ResourceInfo() {
            @Override
            public Method getResourceMethod() {
                return method;
            }

            @Override
            public Class<?> getResourceClass() {
                return type;
            }
        };
    }
}
