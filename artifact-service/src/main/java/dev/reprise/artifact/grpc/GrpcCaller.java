package dev.reprise.artifact.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Hands a gRPC call's {@code authorization} metadata (Bazel: {@code --remote_header=Authorization=Bearer …})
 * to the services, which verify it like an HTTP request's header: the same tokens, grants and tenancy.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcCaller implements ServerInterceptor {

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> HEADER = Context.key("reprise-authorization");

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        return Contexts.interceptCall(Context.current().withValue(HEADER, headers.get(AUTHORIZATION)), call, headers, next);
    }

    /** The current call's authorization metadata, or null; read it where the call starts (the gRPC context is per thread). */
    static String authorization() {
        return HEADER.get();
    }
}
