{#- Personal data never leaves staging in clear text.
    hash_pii: salted SHA-256 of the trimmed, lower-cased value (null stays null), so the same
    email always maps to the same key and can still be joined on.
    redact_emails: replaces anything that looks like an email inside free text. -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii', 'customer_outcomes')(column)) }}
{%- endmacro %}

{% macro default__hash_pii(column) -%}
    case when {{ column }} is not null then
        sha256('{{ var("pii_salt") }}' || lower(trim({{ column }})))
    end
{%- endmacro %}

{% macro postgres__hash_pii(column) -%}
    case when {{ column }} is not null then
        encode(sha256(convert_to('{{ var("pii_salt") }}' || lower(trim({{ column }})), 'UTF8')), 'hex')
    end
{%- endmacro %}

{% macro spark__hash_pii(column) -%}
    case when {{ column }} is not null then
        sha2(concat('{{ var("pii_salt") }}', lower(trim({{ column }}))), 256)
    end
{%- endmacro %}

{% macro email_pattern() -%}
    [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}
{%- endmacro %}

{% macro redact_emails(column) -%}
    {{ return(adapter.dispatch('redact_emails', 'customer_outcomes')(column)) }}
{%- endmacro %}

{% macro default__redact_emails(column) -%}
    regexp_replace({{ column }}, '{{ email_pattern() }}', '[email redacted]', 'g')
{%- endmacro %}

{% macro spark__redact_emails(column) -%}
    regexp_replace({{ column }}, '{{ email_pattern() }}', '[email redacted]')
{%- endmacro %}
