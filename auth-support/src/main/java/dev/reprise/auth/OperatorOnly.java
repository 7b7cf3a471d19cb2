package dev.reprise.auth;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A REST resource method (or every method of a resource class) that acts on the whole store, every
 * tenant's data: {@link OperatorGuard} lets only an operator token through, whatever else the
 * service's own checks would allow.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface OperatorOnly {
}
